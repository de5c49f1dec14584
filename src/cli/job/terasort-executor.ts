// An executor process of `sluice job terasort` (forked by ExecutorPool): what an engine's
// executor does with Sluice. It builds ONE ShuffleClient from the shuffle handle the driver
// ships (driverAddress and credential) and runs the map and reduce tasks the driver hands it
// over IPC (executor-ipc.ts), each with that client. It exits when the driver says close or
// when the IPC channel goes away (the driver died), so it never outlives the job.
import { RangePartitioner, ShuffleClient, SluiceError } from '../../client/index.js';
import { cpuMicros, type FromExecutor, type ToExecutor } from './executor-ipc.js';
import { runMapTask, runReduceTask } from './terasort-tasks.js';

type Init = Extract<ToExecutor, { type: 'init' }>;

function send(message: FromExecutor): void {
  process.send!(message);
}

function serve(init: Init): void {
  const client = new ShuffleClient({
    driver: init.driver,
    credential: init.credential,
    compression: init.compression,
  });
  const partitioner = new RangePartitioner(init.bounds.map((b) => Buffer.from(b, 'hex')));
  process.on('message', (m: ToExecutor) => {
    if (m.type === 'usage') send({ type: 'usage', cpuMicros: cpuMicros() });
    else if (m.type === 'close') void client.close().finally(() => process.disconnect());
    else if (m.type === 'task') {
      const run =
        m.kind === 'map'
          ? runMapTask(client, init.job, partitioner, m.task)
          : runReduceTask(client, init.job, partitioner, m.task);
      run.then(
        (result) => send({ type: 'done', kind: m.kind, task: m.task, result }),
        (err: unknown) =>
          send({
            type: 'failed',
            kind: m.kind,
            task: m.task,
            message: err instanceof Error ? err.message : String(err),
            ...(err instanceof SluiceError ? { code: err.code } : {}),
          }),
      );
    }
  });
  send({ type: 'ready', cpuMicros: cpuMicros() });
}

if (!process.send) {
  process.stderr.write('terasort-executor: run by `sluice job terasort`, not by hand\n');
  process.exit(2);
}
// The driver decides when executors stop: a Ctrl-C reaching the whole process group must not
// kill them under it before it has seen the signal; a lost channel means the driver is gone.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(0));
process.once('message', (m: ToExecutor) => {
  if (m.type === 'init') serve(m);
});
