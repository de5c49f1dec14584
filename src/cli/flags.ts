// Command-line flags: each command maps short flags to configuration keys; any key can also
// be set with `--set key=value` or `--<key>=value`. Unknown flags are refused with a hint.
import { ConfigError } from '../common/errors.js';
import { CONFIG_BY_KEY, closestKey } from '../common/config/index.js';

export interface FlagSpec {
  readonly flag: string;
  /** The configuration key the flag sets; absent for command options. */
  readonly key?: string;
  readonly doc: string;
  readonly boolean?: boolean;
  readonly repeatable?: boolean;
}

export interface ParsedFlags {
  /** Configuration values by key. */
  readonly config: Record<string, string>;
  /** Command options (flags without a key) by flag name; repeatable ones joined by \n. */
  readonly options: Record<string, string[]>;
  readonly configFile: string | undefined;
  readonly help: boolean;
  readonly positionals: string[];
}

export const COMMON_FLAGS: readonly FlagSpec[] = [
  { flag: 'config', doc: 'JSON configuration file (flat dotted keys or nested objects)' },
  {
    flag: 'set',
    doc: 'set any configuration key: --set manager.appExpiryMs=60s (repeatable)',
    repeatable: true,
  },
  {
    flag: 'log-level',
    key: 'log.level',
    doc: 'fatal | error | warn | info | debug | trace | silent',
  },
  {
    flag: 'cluster-secret-file',
    key: 'security.clusterSecretFile',
    doc: 'file with the cluster secret: authenticate every call (docs/operations.md#security)',
  },
  { flag: 'help', doc: 'show this help', boolean: true },
];

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const all = [...specs, ...COMMON_FLAGS];
  const byName = new Map(all.map((s) => [s.flag, s]));
  const out: ParsedFlags = {
    config: {},
    options: {},
    configFile: undefined,
    help: false,
    positionals: [],
  };
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    const takeValue = (): string => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`--${name}`, 'needs a value');
      return next;
    };
    if (!spec) {
      if (CONFIG_BY_KEY.has(name)) {
        out.config[name] = takeValue();
        continue;
      }
      const hint = closestKey(name, [...byName.keys(), ...CONFIG_BY_KEY.keys()]);
      throw new ConfigError(
        `--${name}`,
        `unknown flag${hint ? `; did you mean --${hint}?` : ''} (see --help)`,
      );
    }
    if (spec.boolean) {
      if (spec.flag === 'help') help = true;
      else (out.options[spec.flag] ??= []).push('true');
    } else if (spec.flag === 'config') configFile = takeValue();
    else if (spec.flag === 'set') {
      const pair = takeValue();
      const at = pair.indexOf('=');
      if (at <= 0) throw new ConfigError('--set', `expects key=value, got ${JSON.stringify(pair)}`);
      out.config[pair.slice(0, at)] = pair.slice(at + 1);
    } else if (spec.key) {
      const value = takeValue();
      // A repeatable keyed flag (--dir a --dir b) collects a comma-separated list.
      const prev = out.config[spec.key];
      out.config[spec.key] = spec.repeatable && prev !== undefined ? `${prev},${value}` : value;
    } else (out.options[spec.flag] ??= []).push(takeValue());
  }
  return { ...out, configFile, help };
}

export function renderHelp(usage: string, summary: string, specs: readonly FlagSpec[]): string {
  const all = [...specs, ...COMMON_FLAGS];
  const width =
    all.reduce((m, s) => Math.max(m, s.flag.length + (s.boolean ? 0 : 8)), -Infinity) + 4;
  const lines = all.map((s) => {
    const left = `  --${s.flag}${s.boolean ? '' : ' <value>'}`;
    const key = s.key ? ` [${s.key}]` : '';
    return `${left.padEnd(width + 2)}${s.doc}${key}`;
  });
  return `Usage: ${usage}\n\n${summary}\n\nFlags:\n${lines.join('\n')}\n\nEvery configuration key (docs/configuration.md) can also be set with --set key=value,\n--<key>=value, a --config file, or SLUICE_* environment variables.\n`;
}
