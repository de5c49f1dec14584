// The public surface of the Sluice client library (docs/client.md): the only module engines
// import (`import { ShuffleDriver, ShuffleClient } from 'sluice'`; the package exports nothing
// else). An engine constructs two classes, ShuffleDriver and ShuffleClient; writers and readers
// come from ShuffleClient and are exported as types only. Everything else under src/client
// (PushWriter, EssWriter, EssReader, RecordBuffer, the connection pool...) is internal: tests
// import it by path, engines never need it. test/public-api.test.ts pins this list.
export { ShuffleDriver } from './driver/shuffle-driver.js';
export type {
  ShuffleDriverOptions,
  RegisterShuffleOptions,
  ShuffleHandle,
} from './driver/shuffle-driver.js';
export type { CommitOutcome } from './driver/shuffle-state.js';
export type { RollingDecision, ExecutorActivity } from './driver/executor-rolling.js';
export { ShuffleClient } from './shuffle-client.js';
export type { ShuffleClientOptions, Compression, ShuffleMode } from './options.js';
export type { ShuffleWriter, WriterOptions, WriteResult, PartitionStats } from './write/writer.js';
export type { ShuffleReader, ReaderOptions, ReaderStats } from './read/reader.js';
export { HashPartitioner, RangePartitioner, type Partitioner } from './partitioner.js';
// Record framing, for engines that read whole blocks (reader.blocks()) and parse them.
export { encodeRecords, decodeRecords, RECORD_PREFIX_BYTES } from './records.js';
export {
  FetchFailedError,
  ShuffleDataLostError,
  CorruptShuffleDataError,
  WorkerRequestError,
} from './errors.js';
export {
  SluiceError,
  InvalidArgumentError,
  ERROR_CODES,
  type ErrorCode,
} from '../common/errors.js';
export type { ClientLogger } from './logger.js';
