// ShuffleClient (docs/client.md): the executor side. One per executor; it shares data connections,
// push windows and the in-flight byte budget between all its writers and readers.
import { DriverClient } from './driver/driver-client.js';
import { SILENT, type ClientLogger } from './logger.js';
import { ConnectionPool } from './net/connection-pool.js';
import {
  resolveClientOptions,
  type ResolvedClientOptions,
  type ShuffleClientOptions,
} from './options.js';
import { PushReader } from './read/push-reader.js';
import type { ReaderOptions, ShuffleReader } from './read/reader.js';
import { ByteBudget, PushWindows } from './write/push-window.js';
import { RecordBufferPool } from './write/record-buffer-pool.js';
import { ShuffleContext } from './write/shuffle-context.js';
import { PushWriter } from './write/push-writer.js';
import { EssReader } from './ess-mode/ess-reader.js';
import { EssWriter } from './ess-mode/ess-writer.js';
import type { ShuffleWriter, WriterOptions } from './write/writer.js';
import { parseAppId, parseInteger, parseShuffleId, MAX_U32, type AppId } from '../common/ids.js';
import { InvalidArgumentError, SluiceError } from '../common/errors.js';
import { appSigner } from '../common/security/call-auth.js';
import { grpcChannelCredentials } from '../common/security/tls.js';

/** Frames up to this size are accepted from workers (a chunk is 8 MiB by default). */
const MAX_ANSWER_FRAME_BYTES = 1024 ** 3;

export class ShuffleClient {
  readonly options: ResolvedClientOptions;
  readonly #logger: ClientLogger;
  readonly #driver: DriverClient;
  /**
   * Separate connections for pushes and fetches: a worker under memory pressure stops
   * reading connections that carry pushes (docs/architecture.md#worker), which must not stall this executor's
   * reducers.
   */
  readonly #pushPool: ConnectionPool;
  readonly #fetchPool: ConnectionPool;
  readonly #windows: PushWindows;
  readonly #budget: ByteBudget;
  readonly #buffers: RecordBufferPool;
  readonly #contexts = new Map<string, ShuffleContext>();
  /** Writers not yet closed or aborted. */
  readonly #writers = new Set<ShuffleWriter>();
  #closed = false;

  constructor(options: ShuffleClientOptions) {
    this.options = resolveClientOptions(options);
    this.#logger = options.logger ?? SILENT;
    const credential = this.options.credential;
    this.#driver = new DriverClient(
      this.options.driver,
      this.options.deadlineMs,
      this.options.maxMessageBytes,
      credential && appSigner(credential),
      grpcChannelCredentials(this.options.tls),
    );
    const pool = {
      connectTimeoutMs: this.options.connectTimeoutMs,
      maxFrameBytes: MAX_ANSWER_FRAME_BYTES,
      credential,
      tls: this.options.tls,
    };
    this.#pushPool = new ConnectionPool(pool);
    this.#fetchPool = new ConnectionPool(pool);
    this.#windows = new PushWindows(this.options.maxInFlightPerWorker);
    this.#budget = new ByteBudget(this.options.maxInFlightBytes);
    // One writer's worth of buffers stays for the next map task (the common case: a task ends,
    // the next one of the same shuffle starts with partitions of about the same sizes).
    this.#buffers = new RecordBufferPool(this.options.maxBufferedBytesPerWriter);
  }

  /** Bytes sealed into blocks and not yet acknowledged by both replicas. */
  get inFlightBytes(): number {
    return this.#budget.used;
  }

  writer(options: WriterOptions): ShuffleWriter {
    this.#checkOpen();
    const appId = this.#appId(options.appId);
    const shuffleId = parseShuffleId(options.shuffleId);
    const checked = {
      appId,
      shuffleId,
      mapId: parseInteger(options.mapId, 'mapId', 0, MAX_U32),
      attemptId: parseInteger(options.attemptId, 'attemptId', 0, MAX_U32),
      numPartitions: parseInteger(options.numPartitions, 'numPartitions', 1, 1_000_000),
    };
    const onFinished = () => this.#writers.delete(writer);
    const writer: ShuffleWriter =
      this.options.mode === 'ess'
        ? new EssWriter(
            {
              options: this.options,
              pool: this.#pushPool,
              buffers: this.#buffers,
              driver: this.#driver,
              onFinished,
            },
            checked,
          )
        : new PushWriter(
            {
              options: this.options,
              pool: this.#pushPool,
              windows: this.#windows,
              budget: this.#budget,
              buffers: this.#buffers,
              driver: this.#driver,
              context: this.#context(appId, shuffleId),
              logger: this.#logger,
              onFinished,
            },
            checked,
          );
    this.#writers.add(writer);
    return writer;
  }

  reader(options: ReaderOptions): ShuffleReader {
    this.#checkOpen();
    const checked = {
      appId: this.#appId(options.appId),
      shuffleId: parseShuffleId(options.shuffleId),
      partitionId: parseInteger(options.partitionId, 'partitionId', 0, 1_000_000 - 1),
    };
    const deps = {
      options: this.options,
      pool: this.#fetchPool,
      driver: this.#driver,
      logger: this.#logger,
    };
    return this.options.mode === 'ess'
      ? new EssReader(deps, checked)
      : new PushReader(deps, checked);
  }

  /**
   * Closes the client: waits for writers whose close() already started (their pushes and
   * MapperEnd), aborts the others (their unpushed records are dropped), then closes every
   * connection. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#writers].map((w) => w.closing ?? w.abort()));
    this.#shutdown();
  }

  /** Aborts at once: every writer fails with `err`, connections are dropped. Idempotent. */
  destroy(
    err: Error = new SluiceError('SLUICE_ERR_UNAVAILABLE', 'the shuffle client was destroyed', {
      retriable: false,
    }),
  ): void {
    this.#closed = true;
    for (const w of this.#writers) w.abort(err);
    this.#shutdown();
  }

  #shutdown(): void {
    this.#writers.clear();
    this.#pushPool.close();
    this.#fetchPool.close();
    this.#driver.close();
  }

  #context(appId: string, shuffleId: number): ShuffleContext {
    const key = `${appId}/${shuffleId}`;
    let ctx = this.#contexts.get(key);
    if (!ctx) {
      ctx = new ShuffleContext(this.#driver, appId, shuffleId);
      this.#contexts.set(key, ctx);
    }
    return ctx;
  }

  /** The app id of a writer or reader: the credential's app, when the client has one. */
  #appId(value: unknown): AppId {
    const appId = parseAppId(value);
    const own = this.options.credential?.appId;
    if (own !== undefined && appId !== own)
      throw new InvalidArgumentError(
        'appId',
        `this client's credential is app ${own}'s; it cannot read or write app ${appId}`,
      );
    return appId;
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new SluiceError('SLUICE_ERR_UNAVAILABLE', 'the shuffle client is closed', {
        retriable: false,
      });
  }
}
