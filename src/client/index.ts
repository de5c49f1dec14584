// The public surface of the Sluice client library (docs/client.md): the only module engines import
// (`import { ShuffleDriver, ShuffleClient } from 'sluice'`).
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
export { PushWriter } from './write/shuffle-writer.js';
export type { ShuffleWriter, WriterOptions, WriteResult, PartitionStats } from './write/writer.js';
export { ShuffleReader } from './read/shuffle-reader.js';
export { EssReader } from './ess-mode/ess-reader.js';
export { EssWriter } from './ess-mode/ess-writer.js';
export type { ReaderOptions, ReaderStats } from './read/shuffle-reader.js';
export { HashPartitioner, RangePartitioner, type Partitioner } from './partitioner.js';
export { RecordBuffer, encodeRecords, decodeRecords, RECORD_PREFIX_BYTES } from './records.js';
export {
  FetchFailedError,
  ShuffleDataLostError,
  CorruptShuffleDataError,
  WorkerRequestError,
} from './errors.js';
export { SluiceError, ERROR_CODES, type ErrorCode } from '../common/errors.js';
export type { ClientLogger } from './logger.js';
