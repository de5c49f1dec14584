// The progress display of bench/run.mjs, on stderr: one line per step with the time since the
// start; on a terminal the current line also ticks its own elapsed seconds.
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';

export class Progress {
  #quiet;
  #t0 = performance.now();
  #stepAt = 0;
  #label = '';
  #timer;
  #tty = Boolean(process.stderr.isTTY);

  constructor(quiet) {
    this.#quiet = quiet;
  }

  #clock(ms) {
    const s = Math.round(ms / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  #line() {
    const now = performance.now();
    return `[${this.#clock(now - this.#t0)}] ${this.#label} … ${((now - this.#stepAt) / 1000).toFixed(0)} s`;
  }

  step(what, run) {
    if (this.#quiet) return;
    if (this.#tty && this.#label) process.stderr.write(`\r\x1b[K${this.#line()}\n`);
    this.#label = `scenario ${what} (run ${run})`;
    this.#stepAt = performance.now();
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K${this.#line()}`);
      this.#timer ??= setInterval(() => process.stderr.write(`\r\x1b[K${this.#line()}`), 1000);
      this.#timer.unref();
    } else process.stderr.write(`[${this.#clock(this.#stepAt - this.#t0)}] ${this.#label}\n`);
  }

  done() {
    clearInterval(this.#timer);
    if (this.#tty && this.#label && !this.#quiet) process.stderr.write(`\r\x1b[K${this.#line()}\n`);
    this.#label = '';
  }
}
