// How every daemon stops (docs/development.md#layout, docs/development.md#close-and-destroy): the first SIGTERM / SIGINT closes gracefully
// and exits 0 (1 if the close failed); a second one means the operator will not wait: abort
// and exit 1.
import type { Logger } from './logger.js';

export interface Stoppable {
  close(): Promise<unknown>;
  /** Immediate abort on a second signal; omitted when exiting is abort enough. */
  destroy?(): void;
}

export function exitOnStopSignals(log: Logger, target: Stoppable): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: aborting');
      target.destroy?.();
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    target.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Starts a daemon's server (aborting it if the start fails) and stops it on signals. */
export async function startDaemon<
  T extends Stoppable & { start(): Promise<void>; destroy(): void },
>(log: Logger, server: T): Promise<T> {
  try {
    await server.start();
  } catch (err) {
    server.destroy();
    throw err;
  }
  exitOnStopSignals(log, server);
  return server;
}
