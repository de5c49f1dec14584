// pino logger factory for daemons (docs/operations.md#metrics). The client library takes an injected logger
// and is silent by default (SILENT_LOGGER).
import { pino, destination, stdTimeFunctions, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  /** Defaults to stdout (one JSON object per line). */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: stdTimeFunctions.isoTime,
    },
    options.destination ?? destination({ fd: 1, sync: true }),
  );
}

export const SILENT_LOGGER: Logger = pino({ level: 'silent' });
