// The client library is silent unless the engine injects a logger (docs/development.md#metrics-and-logs). Any
// pino-compatible logger fits: (object, message) calls at four levels.
export interface ClientLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => undefined;

export const SILENT: ClientLogger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});
