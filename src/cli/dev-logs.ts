// Loggers of a dev cluster (docs/operations.md#sluice-dev-what-npm-start-runs): each daemon
// writes pino JSON to <dir>/logs/<name>.log and, with `sluice dev --logs`, also one readable
// line per entry to stdout, prefixed with the daemon's name in its own colour, so every
// daemon's log reads as one stream:
//
//   worker-2  12:10:00.949 INFO  decommissioning: no new allocations; ... timeoutMs=0
import { join } from 'node:path';
import { destination, multistream, type DestinationStream } from 'pino';
import type { Config } from '../common/config/index.js';
import { createLogger, type Logger } from '../common/obs/logger.js';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** ANSI colours of the daemons' prefixes, in the order they are created. */
const PREFIX_COLOURS = [36, 35, 32, 33, 34, 96, 95, 92, 93, 94];
const LEVEL_COLOURS: Record<number, number> = { 40: 33, 50: 31, 60: 31 };
/** Fields every line has, shown in the line's head or not at all. */
const HEAD_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);
const NAME_WIDTH = 9;

export interface TailOptions {
  readonly write: (text: string) => void;
  readonly colour: boolean;
}

/** Whether stdout gets colours: a terminal, or FORCE_COLOR set to anything but 0. */
export function stdoutColour(): boolean {
  const force = process.env.FORCE_COLOR;
  return force !== undefined ? force !== '0' && force !== '' : process.stdout.isTTY === true;
}

/** One readable line of a pino JSON entry, prefixed with `name` (in `colour` when given). */
export function formatEntry(name: string, json: string, colour: number | undefined): string {
  const paint = (code: number | undefined, text: string) =>
    code === undefined ? text : `\x1b[${code}m${text}\x1b[0m`;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `${paint(colour, name.padEnd(NAME_WIDTH))} ${json.trimEnd()}\n`;
  }
  const level = Number(entry.level);
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([k]) => !HEAD_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  const levelText = paint(
    colour === undefined ? undefined : LEVEL_COLOURS[level],
    (LEVELS[level] ?? String(level)).padEnd(5),
  );
  return `${[paint(colour, name.padEnd(NAME_WIDTH)), time, levelText, String(entry.msg ?? ''), ...fields].join(' ')}\n`;
}

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  // An error: its message says enough in a merged stream; the file has the stack.
  if (v && typeof v === 'object' && 'message' in v) return JSON.stringify((v as Error).message);
  return JSON.stringify(v);
}

/**
 * Makes the dev cluster's loggers: `<dir>/logs/<name>.log`, and with `tail` every entry on
 * `tail.write` too.
 */
export function devLoggers(
  dir: string,
  level: Config['log.level'],
  tail: TailOptions | undefined,
): (name: string) => Logger {
  let created = 0;
  return (name) => {
    const file = destination({ dest: join(dir, 'logs', `${name}.log`), mkdir: true, sync: true });
    if (!tail) return createLogger({ name, level, destination: file });
    const colour = tail.colour ? PREFIX_COLOURS[created % PREFIX_COLOURS.length] : undefined;
    created++;
    const stream: DestinationStream = {
      write: (json: string) => tail.write(formatEntry(name, json, colour)),
    };
    return createLogger({
      name,
      level,
      destination: multistream([
        { stream: file, level: 'trace' },
        { stream, level: 'trace' },
      ]),
    });
  };
}
