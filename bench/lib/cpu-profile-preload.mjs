// Preloaded into a child process (NODE_OPTIONS=--import=<this file>) to profile it with the
// in-process inspector, because Node 20 refuses --cpu-prof in NODE_OPTIONS and the testing
// helpers spawn the built CLI with no room for node flags. The profile is written when the
// process exits (the worker exits through process.exit after a graceful SIGTERM), to
// $BENCH_CPU_PROF_DIR/<pid>.cpuprofile, readable by Chrome DevTools, speedscope or
// bench/cpuprofile-top.mjs. (Not a SLUICE_* name: the config loader rejects unknown SLUICE_*
// variables, and this one is no configuration key.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // An in-process session answers synchronously, so this completes inside 'exit'.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
