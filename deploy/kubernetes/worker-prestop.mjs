#!/usr/bin/env node
// preStop hook of the worker pods (worker.yaml): decommissions this worker through the
// manager's API and waits until the worker has exited (it does once it holds no data), so
// Kubernetes stops a worker only after the shuffles on it are done. Bounded by the pod's
// terminationGracePeriodSeconds. If the manager cannot be reached the hook returns at once and
// the SIGTERM that follows stops the worker gracefully (docs/operations.md#decommission).
// Usage: worker-prestop.mjs <manager HTTP URL>; the worker id is $POD_NAME (worker.yaml sets
// --id to it), the admin token is /secrets/admin.token, the worker's HTTP port 9199.
/* global fetch, AbortSignal */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [manager] = process.argv.slice(2);
const workerId = process.env.POD_NAME;
const token = readFileSync('/secrets/admin.token', 'utf8').trim();
const res = await fetch(`${manager}/api/v1/workers/${encodeURIComponent(workerId)}/decommission`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}` },
  signal: AbortSignal.timeout(10_000),
}).catch((err) => err);
if (res instanceof Error || res.status !== 202) {
  console.error(
    `decommission of ${workerId} refused or unreachable: ${res instanceof Error ? res.message : res.status}`,
  );
  process.exit(0);
}
for (;;) {
  const up = await fetch('http://127.0.0.1:9199/healthz', { signal: AbortSignal.timeout(2_000) })
    .then(() => true)
    .catch(() => false);
  if (!up) process.exit(0);
  await sleep(2_000);
}
