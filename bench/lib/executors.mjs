// A pool of executor processes (bench/lib/executor.mjs) driven over IPC: run(i, job) sends a
// job to executor i and resolves with its answer. Executors are separate processes so their
// CPU (building, pushing, checksumming) is not the bench driver's event loop, and the worker
// under test competes with them only for cores, as it would on a real node.
import { fork } from 'node:child_process';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./executor.mjs', import.meta.url));

export class Executors {
  #children = [];
  #pending = new Map();
  #nextId = 0;

  constructor(count) {
    for (let i = 0; i < count; i++) {
      const child = fork(SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', ({ id, result, error }) => {
        const p = this.#pending.get(id);
        if (!p) return;
        this.#pending.delete(id);
        if (error) p.reject(new Error(`executor ${i}: ${error}`));
        else p.resolve(result);
      });
      child.on('exit', (code, signal) => {
        for (const [id, p] of this.#pending) {
          if (p.child !== child) continue;
          this.#pending.delete(id);
          p.reject(new Error(`executor ${i} exited (${code ?? signal})`));
        }
      });
      this.#children.push(child);
    }
  }

  get size() {
    return this.#children.length;
  }

  pids() {
    return this.#children.map((c) => c.pid);
  }

  run(i, job) {
    const child = this.#children[i];
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, child });
      child.send({ id, job });
    });
  }

  /** Runs jobs[i] on executor i, all at once. */
  all(jobs) {
    return Promise.all(jobs.map((job, i) => this.run(i, job)));
  }

  async close() {
    await Promise.all(
      this.#children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', resolve);
            c.disconnect();
            setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
          }),
      ),
    );
  }
}
