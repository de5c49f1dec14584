import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { envName, loadConfig, type LoadConfigOptions } from './load.js';
import { CONFIG_BY_KEY, CONFIG_ENTRIES, type ConfigKey } from './registry.js';
import { formatValue } from './types.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-config-test-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

function writeText(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs `fn`, which must throw a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('SLUICE_ERR_CONFIG');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('loadConfig: defaults', () => {
  it('returns every registry default when nothing is set', () => {
    const config = loadConfig();
    const want = Object.fromEntries(CONFIG_ENTRIES.map((e) => [e.key, e.default]));
    expect({ ...config }).toEqual(want);
    expect(Object.keys(config)).toHaveLength(CONFIG_ENTRIES.length);
  });

  it('has the documented defaults for a few load-bearing keys', () => {
    const config = loadConfig();
    expect(config['log.level']).toBe('info');
    expect(config['grpc.deadlineMs']).toBe(10_000);
    expect(config['manager.host']).toBe('127.0.0.1');
    expect(config['manager.grpcPort']).toBe(9097);
    expect(config['manager.httpPort']).toBe(9098);
    expect(config['manager.state']).toBe('sqlite');
    expect(config['manager.minFreeDiskBytes']).toBe(1024 ** 3);
  });

  it('ignores process.env unless it is passed in', () => {
    // loadConfig reads only the env it is given, so tests are hermetic.
    const config = loadConfig({ env: {} });
    expect(config['manager.grpcPort']).toBe(9097);
  });
});

describe('loadConfig: precedence defaults < file < env < flags < overrides', () => {
  type Layer = 'file' | 'env' | 'flags' | 'overrides';
  const PORT_BY_LAYER: Record<Layer, number> = {
    file: 1001,
    env: 1002,
    flags: 1003,
    overrides: 1004,
  };

  function optionsFor(layers: readonly Layer[]): LoadConfigOptions {
    const options: LoadConfigOptions = {};
    for (const layer of layers) {
      const port = PORT_BY_LAYER[layer];
      if (layer === 'file')
        options.file = writeJson('precedence.json', { 'manager.grpcPort': port });
      if (layer === 'env') options.env = { SLUICE_MANAGER_GRPC_PORT: String(port) };
      if (layer === 'flags') options.flags = { 'manager.grpcPort': String(port) };
      if (layer === 'overrides') options.overrides = { 'manager.grpcPort': port };
    }
    return options;
  }

  it.each<{ layers: Layer[]; want: number }>([
    { layers: [], want: 9097 },
    { layers: ['file'], want: 1001 },
    { layers: ['env'], want: 1002 },
    { layers: ['flags'], want: 1003 },
    { layers: ['overrides'], want: 1004 },
    { layers: ['file', 'env'], want: 1002 },
    { layers: ['file', 'flags'], want: 1003 },
    { layers: ['env', 'flags'], want: 1003 },
    { layers: ['file', 'env', 'flags'], want: 1003 },
    { layers: ['env', 'overrides'], want: 1004 },
    { layers: ['file', 'env', 'flags', 'overrides'], want: 1004 },
  ])('layers $layers → manager.grpcPort $want', ({ layers, want }) => {
    expect(loadConfig(optionsFor(layers))['manager.grpcPort']).toBe(want);
  });

  it('a later layer replaces only the keys it sets', () => {
    const file = writeJson('partial.json', {
      'manager.host': '10.0.0.1',
      'manager.grpcPort': 2000,
      'log.level': 'warn',
    });
    const config = loadConfig({
      file,
      env: { SLUICE_MANAGER_GRPC_PORT: '3000' },
      flags: { 'log.level': 'debug' },
    });
    expect(config['manager.host']).toBe('10.0.0.1');
    expect(config['manager.grpcPort']).toBe(3000);
    expect(config['log.level']).toBe('debug');
    expect(config['manager.httpPort']).toBe(9098);
  });

  it('does not leak values from one load into the next', () => {
    loadConfig({ flags: { 'manager.grpcPort': '1234' } });
    expect(loadConfig()['manager.grpcPort']).toBe(9097);
  });
});

describe('loadConfig: JSON file', () => {
  const WANT = {
    'manager.grpcPort': 7000,
    'manager.minFreeDiskBytes': 2 * 1024 ** 3,
    'log.level': 'debug',
    'grpc.deadlineMs': 5_000,
  };

  it.each([
    {
      shape: 'flat dotted keys',
      json: {
        'manager.grpcPort': 7000,
        'manager.minFreeDiskBytes': '2GiB',
        'log.level': 'debug',
        'grpc.deadlineMs': '5s',
      },
    },
    {
      shape: 'nested objects',
      json: {
        manager: { grpcPort: 7000, minFreeDiskBytes: '2GiB' },
        log: { level: 'debug' },
        grpc: { deadlineMs: '5s' },
      },
    },
    {
      shape: 'a mix of both',
      json: {
        'manager.grpcPort': 7000,
        manager: { minFreeDiskBytes: '2GiB' },
        log: { level: 'debug' },
        'grpc.deadlineMs': 5000,
      },
    },
  ])('reads $shape', ({ json }) => {
    const config = loadConfig({ file: writeJson('config.json', json) });
    for (const [key, value] of Object.entries(WANT)) expect(config[key as ConfigKey]).toBe(value);
    expect(config['manager.httpPort']).toBe(9098);
  });

  it('accepts an empty object', () => {
    const config = loadConfig({ file: writeJson('empty.json', {}) });
    expect(config['manager.grpcPort']).toBe(9097);
  });

  it('refuses a missing file, naming it', () => {
    const file = join(dir, 'does-not-exist.json');
    const err = configError(() => loadConfig({ file }));
    expect(err.message).toContain(file);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it.each([
    { what: 'truncated JSON', text: '{ "manager.grpcPort": ', want: 'not valid JSON' },
    { what: 'not JSON at all', text: 'manager.grpcPort = 1', want: 'not valid JSON' },
    { what: 'a JSON array', text: '[1, 2]', want: 'must hold a JSON object' },
    { what: 'JSON null', text: 'null', want: 'must hold a JSON object' },
    { what: 'a JSON string', text: '"manager.grpcPort"', want: 'must hold a JSON object' },
  ])('refuses $what, naming the file', ({ text, want }) => {
    const file = writeText('bad.json', text);
    const err = configError(() => loadConfig({ file }));
    expect(err.message).toContain(file);
    expect(err.message).toContain(want);
  });
});

describe('loadConfig: environment', () => {
  it.each([
    { key: 'manager.grpcPort', env: 'SLUICE_MANAGER_GRPC_PORT' },
    { key: 'grpc.deadlineMs', env: 'SLUICE_GRPC_DEADLINE_MS' },
    { key: 'log.level', env: 'SLUICE_LOG_LEVEL' },
    { key: 'manager.sqlitePath', env: 'SLUICE_MANAGER_SQLITE_PATH' },
    {
      key: 'manager.workerHeartbeatIntervalMs',
      env: 'SLUICE_MANAGER_WORKER_HEARTBEAT_INTERVAL_MS',
    },
  ])('envName($key) is $env', ({ key, env }) => {
    expect(envName(key)).toBe(env);
  });

  it('gives every key a distinct environment name', () => {
    const names = CONFIG_ENTRIES.map((e) => envName(e.key));
    expect(new Set(names).size).toBe(names.length);
  });

  it('sets every key through its environment name', () => {
    for (const entry of CONFIG_ENTRIES) {
      const config = loadConfig({
        env: { [envName(entry.key)]: formatValue(entry, entry.default) },
      });
      expect(config[entry.key as ConfigKey], entry.key).toEqual(entry.default);
    }
  });

  it('parses environment values with their type', () => {
    const config = loadConfig({
      env: {
        SLUICE_MANAGER_GRPC_PORT: '7001',
        SLUICE_MANAGER_MIN_FREE_DISK_BYTES: '64MiB',
        SLUICE_MANAGER_APP_EXPIRY_MS: '2m',
        SLUICE_MANAGER_STATE: 'memory',
      },
    });
    expect(config['manager.grpcPort']).toBe(7001);
    expect(config['manager.minFreeDiskBytes']).toBe(64 * 1024 ** 2);
    expect(config['manager.appExpiryMs']).toBe(120_000);
    expect(config['manager.state']).toBe('memory');
  });

  it('ignores variables without the prefix, undefined values and SLUICE_CONFIG', () => {
    const config = loadConfig({
      env: {
        PATH: '/usr/bin',
        MANAGER_GRPC_PORT: '1',
        sluice_manager_grpc_port: '2',
        SLUICE_CONFIG: '/etc/sluice.json',
        SLUICE_MANAGER_HTTP_PORT: undefined,
      },
    });
    expect(config['manager.grpcPort']).toBe(9097);
    expect(config['manager.httpPort']).toBe(9098);
  });

  it('refuses an unknown SLUICE_* variable with a did-you-mean hint', () => {
    const err = configError(() => loadConfig({ env: { SLUICE_MANAGER_GRPC_PROT: '1' } }));
    expect(err.key).toBe('SLUICE_MANAGER_GRPC_PROT');
    expect(err.message).toContain('SLUICE_MANAGER_GRPC_PROT');
    expect(err.message).toContain('did you mean SLUICE_MANAGER_GRPC_PORT');
  });

  it('refuses a bad environment value naming the key', () => {
    const err = configError(() => loadConfig({ env: { SLUICE_MANAGER_GRPC_PORT: 'ninety' } }));
    expect(err.key).toBe('manager.grpcPort');
    expect(err.message).toContain('"ninety"');
  });
});

describe('loadConfig: unknown keys', () => {
  it.each<{ source: string; options: () => LoadConfigOptions; key: string; hint: string }>([
    {
      source: 'file (flat)',
      options: () => ({ file: writeJson('typo.json', { 'manager.grpcport': 1 }) }),
      key: 'manager.grpcport',
      hint: 'manager.grpcPort',
    },
    {
      source: 'file (nested)',
      options: () => ({ file: writeJson('typo.json', { manager: { grpcport: 1 } }) }),
      key: 'manager.grpcport',
      hint: 'manager.grpcPort',
    },
    {
      source: 'flags',
      options: () => ({ flags: { 'manager.grpcport': '1' } }),
      key: 'manager.grpcport',
      hint: 'manager.grpcPort',
    },
    {
      source: 'flags',
      options: () => ({ flags: { 'manger.host': 'x' } }),
      key: 'manger.host',
      hint: 'manager.host',
    },
    {
      source: 'overrides',
      options: () => ({ overrides: { 'manager.grpcPrt': 1 } as LoadConfigOptions['overrides'] }),
      key: 'manager.grpcPrt',
      hint: 'manager.grpcPort',
    },
  ])('$source: $key is refused, suggesting $hint', ({ options, key, hint }) => {
    const err = configError(() => loadConfig(options()));
    expect(err.key).toBe(key);
    expect(err.context).toMatchObject({ key });
    expect(err.message).toContain(key);
    expect(err.message).toContain(`did you mean "${hint}"?`);
  });

  it('names the source of the unknown key', () => {
    const file = writeJson('typo.json', { 'manager.grpcport': 1 });
    expect(configError(() => loadConfig({ file })).message).toContain(`from file ${file}`);
    expect(configError(() => loadConfig({ flags: { 'x.y': '1' } })).message).toContain(
      'from flags',
    );
  });

  it('gives no hint when nothing is close', () => {
    const err = configError(() => loadConfig({ flags: { zzzzzz: '1' } }));
    expect(err.key).toBe('zzzzzz');
    expect(err.message).not.toContain('did you mean');
  });

  it('refuses a non-object value at a section name', () => {
    const err = configError(() => loadConfig({ file: writeJson('s.json', { manager: 5 }) }));
    expect(err.key).toBe('manager');
  });
});

describe('loadConfig: bad values are refused naming the key', () => {
  it.each<{ key: string; raw: unknown; want: string }>([
    { key: 'manager.grpcPort', raw: '9097.5', want: 'integer' },
    { key: 'manager.grpcPort', raw: 9097.5, want: 'integer' },
    { key: 'manager.grpcPort', raw: 'ninety', want: 'integer' },
    { key: 'manager.grpcPort', raw: '', want: 'integer' },
    { key: 'manager.grpcPort', raw: true, want: 'integer' },
    { key: 'manager.grpcPort', raw: 70_000, want: '<= 65535' },
    { key: 'manager.grpcPort', raw: '70000', want: '<= 65535' },
    { key: 'manager.httpPort', raw: -1, want: '>= 0' },
    { key: 'manager.maxPartitionsPerGroup', raw: 0, want: '>= 1' },
    { key: 'manager.state', raw: 'postgres', want: 'sqlite | memory' },
    { key: 'log.level', raw: 'verbose', want: 'fatal | error' },
    { key: 'log.level', raw: 'INFO', want: 'must be one of' },
    { key: 'manager.minFreeDiskBytes', raw: '12XB', want: 'byte size' },
    { key: 'manager.minFreeDiskBytes', raw: '-1GiB', want: 'byte size' },
    { key: 'manager.minFreeDiskBytes', raw: -1, want: '>= 0' },
    { key: 'grpc.deadlineMs', raw: '5 parsecs', want: 'duration' },
    { key: 'grpc.deadlineMs', raw: 'soon', want: 'duration' },
    { key: 'grpc.deadlineMs', raw: '0ms', want: '>= 1' },
    { key: 'grpc.deadlineMs', raw: 1.5, want: 'duration' },
    { key: 'manager.host', raw: 42, want: 'string' },
    { key: 'manager.host', raw: null, want: 'string' },
  ])('$key = $raw → refused ($want)', ({ key, raw, want }) => {
    const file = writeJson('bad-value.json', { [key]: raw });
    const err = configError(() => loadConfig({ file }));
    expect(err.key).toBe(key);
    expect(err.message.startsWith(`${key}: `)).toBe(true);
    expect(err.message).toContain(want);
  });

  it.each([
    { key: 'manager.grpcPort', raw: '70000' },
    { key: 'manager.state', raw: 'postgres' },
    { key: 'manager.minFreeDiskBytes', raw: '12XB' },
    { key: 'grpc.deadlineMs', raw: '5 parsecs' },
  ])('flag $key=$raw → refused naming the key and the value', ({ key, raw }) => {
    const err = configError(() => loadConfig({ flags: { [key]: raw } }));
    expect(err.key).toBe(key);
    expect(err.message).toContain(key);
    expect(err.message).toContain(JSON.stringify(raw).replace(/^"|"$/g, ''));
  });
});

describe('loadConfig: result', () => {
  it('is frozen', () => {
    const config = loadConfig({ flags: { 'manager.grpcPort': '1234' } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as Record<string, unknown>)['manager.grpcPort'] = 1;
    }).toThrow(TypeError);
    expect(config['manager.grpcPort']).toBe(1234);
  });

  it('holds exactly the registry keys', () => {
    const config = loadConfig({ flags: { 'manager.host': '0.0.0.0' } });
    expect(Object.keys(config).sort()).toEqual([...CONFIG_BY_KEY.keys()].sort());
  });
});
