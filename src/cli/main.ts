// The `sluice` command (docs/development.md#layout): parses flags into configuration and hands over
// to each process's main. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
import { readFileSync } from 'node:fs';
import { ConfigError, SluiceError } from '../common/errors.js';
import { loadConfig, renderConfigDocs, type Config } from '../common/config/index.js';
import { renderErrorDocs } from '../common/error-docs.js';
import { MANAGER_FLAGS, runManager } from '../manager/main.js';
import { WORKER_FLAGS, runWorker } from '../worker/main.js';
import { AGENT_FLAGS, runAgent } from '../agent/main.js';
import { ESS_FLAGS, runEss } from '../ess/main.js';
import { runSimCommand, SIM_FLAGS } from './sim.js';
import { runDev, DEV_FLAGS } from './dev.js';
import { runJob } from './job/main.js';
import { runBenchCommand } from './bench.js';
import { runAdmin } from './admin.js';
import { runManagerWithAgent } from './manager-with-agent.js';
import { parseFlags, renderHelp, type FlagSpec } from './flags.js';

const USAGE = `Usage: sluice <command> [flags]

Commands:
  manager        run the cluster manager (gRPC :9097, HTTP :9098); --agent embeds the agent
  worker         run a worker (data :9198, control :9197, HTTP :9199)
  agent          run the allocation agent (gRPC :9297, HTTP :9298)
  ess            run the node-local ESS for ESS mode (data :9398, HTTP :9399)
  dev            run a local cluster under ./.sluice: a manager, three workers, the agent
                 (--ha: three managers electing a leader on ZooKeeper)
  admin          operate a running cluster: status, workers, apps, shuffles,
                 decommission <worker> [--wait], recommission <worker>
  job terasort   run a terasort through the client library against a running cluster
  bench          run the benchmarks of bench/README.md (npm run bench; --quick for a short run)
  sim            simulate allocation policies on TPC-H-like, terasort and PageRank apps
  docs config    print the configuration reference (docs/configuration.md)
  docs errors    print the error code reference (docs/errors.md)
  version        print the version

Run \`sluice <command> --help\` for a command's flags.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function configFrom(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  usage: string,
  summary: string,
): { config: Config; options: Record<string, string[]> } | undefined {
  const flags = parseFlags(argv, specs);
  if (flags.help) {
    process.stdout.write(renderHelp(usage, summary, specs));
    return undefined;
  }
  if (flags.positionals.length > 0)
    throw new ConfigError(flags.positionals[0]!, 'unexpected argument (see --help)');
  const config = loadConfig({
    file: flags.configFile ?? process.env.SLUICE_CONFIG,
    env: process.env,
    flags: flags.config,
  });
  return { config, options: flags.options };
}

async function run(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'manager': {
      const parsed = configFrom(
        rest,
        [
          ...MANAGER_FLAGS,
          {
            flag: 'agent',
            doc: 'also run the allocation agent in this process (agent.* keys: gRPC :9297)',
            boolean: true,
          },
        ],
        'sluice manager [flags]',
        'Runs the Sluice cluster manager: worker registry, apps, partition-group allocation.',
      );
      if (parsed?.options.agent) await runManagerWithAgent(parsed.config);
      else if (parsed) await runManager(parsed.config);
      return;
    }
    case 'worker': {
      const parsed = configFrom(
        rest,
        WORKER_FLAGS,
        'sluice worker --manager HOST:PORT[,HOST:PORT...] --dir PATH [--dir PATH ...] [flags]',
        'Runs a Sluice worker: accepts pushes, merges them per partition, writes one file per partition, serves reads.',
      );
      if (parsed) await runWorker(parsed.config);
      return;
    }
    case 'dev': {
      const parsed = configFrom(
        rest,
        DEV_FLAGS,
        'sluice dev [flags]',
        'Runs a local Sluice cluster with state and data under ./.sluice (Ctrl-C stops it).',
      );
      if (parsed) {
        const workers = Number(parsed.options.workers?.at(-1) ?? 3);
        if (!Number.isInteger(workers) || workers < 0 || workers > 16)
          throw new ConfigError(
            '--workers',
            `must be 0..16, got ${parsed.options.workers?.at(-1)}`,
          );
        await runDev(parsed.config, parsed.options.dir?.at(-1), workers, {
          ha: parsed.options.ha !== undefined,
          zk: parsed.options.zk?.at(-1),
          logs: parsed.options.logs !== undefined,
        });
      }
      return;
    }
    case 'job':
      await runJob(rest);
      return;
    case 'admin':
      process.exitCode = await runAdmin(rest);
      return;
    case 'bench':
      await runBenchCommand(rest);
      return;
    case 'agent': {
      const parsed = configFrom(
        rest,
        AGENT_FLAGS,
        'sluice agent [--manager HOST:PORT[,HOST:PORT...]] [flags]',
        'Runs the Sluice allocation agent: per-stage executor targets from stage events, history in SQLite.',
      );
      if (parsed) await runAgent(parsed.config);
      return;
    }
    case 'ess': {
      const parsed = configFrom(
        rest,
        ESS_FLAGS,
        'sluice ess --dir PATH [flags]',
        "Runs the node-local ESS: serves the map output files this node's executors wrote in ESS mode.",
      );
      if (parsed) await runEss(parsed.config);
      return;
    }
    case 'sim': {
      const parsed = configFrom(
        rest,
        SIM_FLAGS,
        'sluice sim [--out DIR] [--seed N] [--fast]',
        'Simulates Spark default, static 50, Dexter, the Sluice agent and the oracle; prints tables and writes JSON + SVG.',
      );
      if (parsed) runSimCommand(parsed.options);
      return;
    }
    case 'docs': {
      const what = rest[0];
      if (what === 'config') process.stdout.write(renderConfigDocs());
      else if (what === 'errors') process.stdout.write(renderErrorDocs());
      else
        throw new ConfigError(
          'docs',
          `expects "config" or "errors", got ${JSON.stringify(what ?? '')}`,
        );
      return;
    }
    case 'version':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new ConfigError(command, `unknown command\n\n${USAGE}`);
  }
}

export function main(argv: readonly string[]): void {
  run(argv).catch((err: unknown) => {
    const usage =
      err instanceof SluiceError &&
      (err.code === 'SLUICE_ERR_CONFIG' || err.code === 'SLUICE_ERR_INVALID_ARGUMENT');
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`sluice: ${message}\n`);
    process.exit(usage ? 2 : 1);
  });
}
