// `sluice job <name>`: example jobs run through the client library against a running cluster.
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../common/errors.js';
import { parseValue, type ConfigEntry } from '../../common/config/index.js';
import { parseFlags, renderHelp, type FlagSpec } from '../flags.js';
import { runTerasort, type StageCpu, type TerasortReport } from './terasort.js';

export const TERASORT_FLAGS: readonly FlagSpec[] = [
  {
    flag: 'manager',
    doc: 'manager gRPC address, or a comma-separated list of every manager (default 127.0.0.1:9097, what `npm start` runs)',
  },
  { flag: 'size', doc: 'bytes of 100-byte records to sort, e.g. 1GiB (default 1GiB)' },
  { flag: 'maps', doc: 'map tasks (default 16)' },
  { flag: 'partitions', doc: 'reduce partitions (default 64)' },
  {
    flag: 'executors',
    doc: 'executor processes running the map and reduce tasks, each with one ShuffleClient (default: the CPU cores); 0 runs them in this process',
  },
  {
    flag: 'parallel',
    doc: 'tasks running at once in each executor, or in this process with --executors 0 (default 4)',
  },
  { flag: 'replication', doc: 'true | false: dual push to two workers (default true)' },
  { flag: 'compression', doc: 'lz4 | none (default lz4)' },
  { flag: 'json', doc: 'print the report as JSON', boolean: true },
];

const USAGE =
  'sluice job terasort [--manager HOST:PORT[,HOST:PORT...]] [--size 1GiB] [--maps 16] [--partitions 64] [--executors N]';

function option(
  opts: Record<string, string[]>,
  name: string,
  type: ConfigEntry['type'],
  fallback: unknown,
  min?: number,
  values?: string[],
) {
  const raw = opts[name]?.at(-1);
  if (raw === undefined) return fallback;
  return parseValue(
    { key: `--${name}`, type, default: fallback, doc: '', category: 'job', min, values },
    raw,
  );
}

export async function runJob(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name !== 'terasort')
    throw new ConfigError('job', `unknown job ${JSON.stringify(name ?? '')}; jobs: terasort`);
  const flags = parseFlags(rest, TERASORT_FLAGS);
  if (flags.help) {
    process.stdout.write(
      renderHelp(
        USAGE,
        [
          'Generates, shuffles, sorts and validates records through a running Sluice cluster.',
          'The driver runs in this process; the map and reduce tasks run in --executors child',
          'processes, each with one ShuffleClient built from the shuffle handle, as an engine',
          "runs them. Prints each stage's throughput and CPU-seconds per GB of records: the",
          "executors' (summed) and the driver process's.",
        ].join('\n'),
        TERASORT_FLAGS,
      ),
    );
    return;
  }
  if (flags.positionals.length > 0)
    throw new ConfigError(flags.positionals[0]!, 'unexpected argument (see --help)');
  const o = flags.options;
  const bytes = option(o, 'size', 'bytes', 1024 ** 3, 100) as number;
  const report = await runTerasort({
    manager: (o.manager?.at(-1) as string | undefined) ?? '127.0.0.1:9097',
    bytes,
    maps: option(o, 'maps', 'int', 16, 1) as number,
    partitions: option(o, 'partitions', 'int', 64, 1) as number,
    executors: option(o, 'executors', 'int', availableParallelism(), 0) as number,
    parallel: option(o, 'parallel', 'int', 4, 1) as number,
    replication: option(o, 'replication', 'bool', true) as boolean,
    compression: option(o, 'compression', 'enum', 'lz4', undefined, ['lz4', 'none']) as
      'lz4' | 'none',
    onProgress: o.json ? undefined : (line) => process.stderr.write(`  ${line}\n`),
  });
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : render(report));
  if (!report.valid) process.exitCode = 1;
}

function render(r: TerasortReport): string {
  const gb = (bps: number) => `${(bps / 1e9).toFixed(3)} GB/s`;
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;
  const cpu = (c: StageCpu) =>
    `CPU-s/GB: ${c.executorSecondsPerGB === null ? '' : `executors ${c.executorSecondsPerGB.toFixed(2)}, `}driver ${c.driverSecondsPerGB.toFixed(2)}`;
  const where =
    r.executors > 0
      ? `${r.executors} executor processes x ${r.parallel} tasks`
      : `in-process, ${r.parallel} tasks`;
  return [
    `terasort ${r.appId}: ${r.records} records, ${mib(r.bytes)}, ${where}`,
    `  map stage      ${r.mapSeconds.toFixed(2)} s  ${gb(r.mapBytesPerSec)}  ${cpu(r.mapCpu)}  (pushed ${mib(r.pushedBytes)} of blocks)`,
    `  reduce stage   ${r.reduceSeconds.toFixed(2)} s  ${gb(r.reduceBytesPerSec)}  ${cpu(r.reduceCpu)}`,
    `  whole job      ${(r.mapSeconds + r.reduceSeconds).toFixed(2)} s  ${gb(r.totalBytesPerSec)}`,
    ...r.executorTasks.map(
      (e) => `  executor ${e.executor}     pid ${e.pid}: ${e.maps} maps, ${e.reduces} reduces`,
    ),
    r.valid
      ? `  validation     OK: global order, ${r.records} records, checksum ${r.checksum}`
      : `  validation     FAILED:\n${r.problems.map((p) => `    - ${p}`).join('\n')}`,
    '',
  ].join('\n');
}
