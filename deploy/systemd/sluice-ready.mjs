#!/usr/bin/env node
// Readiness check for the systemd units (ExecStartPost=): waits until the daemon's HTTP port
// answers /healthz with 200, so `systemctl start` returns once the daemon serves, and fails
// the start if it does not within the timeout. The address comes from the same configuration
// the daemon reads (file, SLUICE_* environment): <daemon>.httpBind or <daemon>.host, and
// <daemon>.httpPort; a wildcard bind address is checked on 127.0.0.1.
// Usage: sluice-ready.mjs <manager|worker|ess|agent> <config.json> [timeout seconds, default 60]
/* global fetch, AbortSignal */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../dist/common/config/index.js';

const [daemon, configFile, timeoutArg = '60'] = process.argv.slice(2);
const hosts = {
  manager: ['manager.httpBind', 'manager.host'],
  worker: ['worker.httpBind', 'worker.bind', 'worker.host'],
  ess: ['ess.httpBind', 'ess.host'],
  agent: ['agent.httpBind', 'agent.host'],
};
if (!hosts[daemon] || !configFile) {
  console.error('usage: sluice-ready.mjs <manager|worker|ess|agent> <config.json> [timeout s]');
  process.exit(2);
}
const config = loadConfig({ file: configFile, env: process.env });
const bound = hosts[daemon].map((k) => config[k]).find((h) => h) ?? '127.0.0.1';
const host =
  bound === '0.0.0.0'
    ? '127.0.0.1'
    : bound === '::'
      ? '[::1]'
      : bound.includes(':')
        ? `[${bound}]`
        : bound;
const url = `http://${host}:${config[`${daemon}.httpPort`]}/healthz`;
const deadline = Date.now() + Number(timeoutArg) * 1000;
for (;;) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (res.status === 200) process.exit(0);
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) {
    console.error(`sluice ${daemon}: ${url} did not answer 200 within ${timeoutArg} s`);
    process.exit(1);
  }
  await sleep(250);
}
