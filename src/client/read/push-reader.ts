// The push-mode reader (docs/architecture.md#reads-and-failover): asks the driver for the partition's file group, reads
// every epoch from one replica (random, to spread load) chunk after chunk with a prefetch
// window, verifies each block's CRC, keeps only the winning attempt of each mapId and each
// (mapId, batchId) once, and finally checks what it read of every winner against the totals
// that winner reported with MapperEnd, so a lost block cannot pass unnoticed.
//
// Failover: on a connection error, timeout, CRC error or missing file the reader switches to
// the next replica. It restarts that replica at chunk 0, not at the failed chunk: the two
// replicas receive concurrent mappers' pushes in different orders, so their files are not
// byte-identical and chunk k of one is not chunk k of the other.
// Dedupe by batchId makes the re-read blocks harmless; the cost is reading the prefix again.
import { SluiceError } from '../../common/errors.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import {
  decodeStreamHandle,
  encodeCloseStreamFrame,
  encodeOpenStreamFrame,
  WireProtocolError,
} from '../../common/wire/index.js';
import type { FileReplica__Output } from '../../common/proto/gen/sluice/v1/FileReplica.js';
import {
  CorruptShuffleDataError,
  FetchFailedError,
  ShuffleDataLostError,
  describe,
} from '../errors.js';
import { fetchChunks } from './chunk-fetch.js';
import { readActionOfError } from './read-decision.js';
import { ReaderBase } from './reader.js';
import { WinnerLedger } from './winner-ledger.js';

export class PushReader extends ReaderBase {
  /** The decompressed contents of every winning block once (records still framed). */
  async *blocks(): AsyncGenerator<Buffer, void, undefined> {
    const groups = await this.fileGroups();
    const ledger = new WinnerLedger(groups.winners);
    const unread = new Map<number, FileReplica__Output[]>();
    for (const { epoch, replicas } of groups.epochs) {
      const order = shuffle([...replicas], this.deps.random ?? Math.random);
      yield* this.#readEpoch(epoch, order, ledger, unread);
    }
    let missing = ledger.mismatches();
    if (missing.length > 0) {
      // Some replica lacked blocks it should hold: read the other replicas too before
      // declaring data lost (dedupe skips what was already returned).
      const failures: { epoch: number; worker: string; error: unknown }[] = [];
      for (const [epoch, replicas] of unread)
        for (const r of replicas) {
          try {
            yield* this.#readReplica(epoch, r, ledger);
          } catch (error) {
            failures.push({ epoch, worker: r.worker?.workerId ?? '?', error });
          }
        }
      missing = ledger.mismatches();
      // A replica that could not be read may hold the missing blocks: a retriable fetch
      // failure, not (yet) lost data.
      const f = failures[0];
      if (missing.length > 0 && f)
        throw new FetchFailedError(
          this.options.partitionId,
          f.epoch,
          failures.map((x) => x.worker),
          f.error,
          `${missing[0]}; and ${failures.map((x) => `${x.worker}: ${describe(x.error)}`).join('; ')}`,
        );
    }
    if (missing.length > 0)
      throw new ShuffleDataLostError(
        this.options.shuffleId,
        [this.options.partitionId],
        missing.slice(0, 5).join('; '),
      );
  }

  async *#readEpoch(
    epoch: number,
    replicas: FileReplica__Output[],
    ledger: WinnerLedger,
    unread: Map<number, FileReplica__Output[]>,
  ): AsyncGenerator<Buffer, void, undefined> {
    const failures: { worker: string; error: unknown }[] = [];
    for (const [i, replica] of replicas.entries()) {
      try {
        yield* this.#readReplica(epoch, replica, ledger);
        unread.set(epoch, replicas.slice(i + 1));
        return;
      } catch (error) {
        // Refused as such (e.g. UNAUTHORIZED): every copy would refuse it the same way.
        if (readActionOfError(error) === 'fail') throw error;
        failures.push({ worker: replica.worker?.workerId ?? '?', error });
        this.stats.failovers++;
        this.deps.logger.warn(
          {
            partition: this.options.partitionId,
            epoch,
            worker: replica.worker?.workerId,
            err: describe(error),
          },
          'replica read failed',
        );
      }
    }
    const workers = failures.map((f) => f.worker);
    const last = failures.at(-1)?.error ?? new Error('the driver listed no replica');
    if (
      failures.length > 0 &&
      failures.every((f) => readActionOfError(f.error) === 'fail-over-corrupt')
    )
      throw new CorruptShuffleDataError(this.options.partitionId, epoch, workers, last);
    throw new FetchFailedError(
      this.options.partitionId,
      epoch,
      workers,
      last,
      failures.map((f) => `${f.worker}: ${describe(f.error)}`).join('; ') || describe(last),
    );
  }

  async *#readReplica(
    epoch: number,
    replica: FileReplica__Output,
    ledger: WinnerLedger,
  ): AsyncGenerator<Buffer, void, undefined> {
    const w = replica.worker;
    if (!w) throw new SluiceError('SLUICE_ERR_INTERNAL', 'a replica without a worker address');
    const { appId, shuffleId, partitionId } = this.options;
    const timeout = this.deps.options.fetchTimeoutMs;
    const conn = await this.deps.pool.get({
      workerId: w.workerId,
      host: w.host,
      dataPort: w.dataPort,
    });
    const open = {
      appId: appId as AppId,
      shuffleId: shuffleId as ShuffleId,
      partition: partitionId,
      epoch,
      startChunk: 0,
    };
    const handle = decodeStreamHandle(
      (
        await this.whileThrottled(() =>
          conn.request((id) => encodeOpenStreamFrame(id, open), timeout),
        )
      ).header,
    );
    const streamId = handle.streamId;
    try {
      if (handle.fileLength !== replica.length)
        // The file changed after the commit: damaged on disk, like a failed CRC.
        throw new WireProtocolError(
          'CORRUPT_FILE',
          `worker ${w.workerId}: the file is ${handle.fileLength} bytes, the commit said ${replica.length}`,
        );
      // Chunk identity and length checked, no chunk CRC: chunk-fetch.ts says why.
      const chunks = fetchChunks(conn, handle, {
        window: this.deps.options.fetchWindow,
        timeoutMs: timeout,
        send: (request) => this.whileThrottled(request),
      });
      let offset = 0;
      for await (const body of chunks) {
        yield* this.blocksOf(body, offset, ledger);
        offset += body.length;
      }
    } finally {
      conn.send((id) => encodeCloseStreamFrame(id, { streamId }));
    }
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
