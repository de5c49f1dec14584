// The storage seam (docs/architecture.md#storage-tiers): where a worker's partition files
// live. One implementation per tier — a local disk (local-disk.ts: O_DIRECT, alignment and
// aligned buffer pools live there and nowhere else), HDFS over WebHDFS (hdfs/), an
// S3-compatible object store (s3/). The partition store and the flusher above it decide what
// to write when and which push status to answer; a storage only stores bytes and reports how
// it is doing.
//
// Layout, the same on every tier (layout.ts): <root>/<appId>/<shuffleId>/<partition>-<epoch>
// .data and .index, plus per shuffle directory an ACCEPTED trace (written before the first
// ack for the shuffle on that storage) and a COMMITTED marker (written once the shuffle's
// commit finished there). A restarted worker serves a shuffle only when every storage that
// holds it has the COMMITTED marker.
import type { PartitionIndex } from './index-file.js';
import type { PartitionFileKey } from './layout.js';
import type { WriteBuffers } from './write-buffers.js';

export type StorageKind = 'disk' | 'hdfs' | 's3';

/** What a storage says about itself (heartbeats, metrics, the worker's choice of storage). */
export type StorageState =
  /** Takes new files. */
  | 'healthy'
  /** Above storage.diskHighWatermark: no new files while another storage is healthy. */
  | 'high-usage'
  /** Recent I/O errors or a failed probe: no new files. */
  | 'failing'
  /** A write or probe has not finished within storage.hungWriteMs: no new files. */
  | 'hung';

export interface StorageUsage {
  /** 0 when the tier does not say (object stores). */
  readonly capacityBytes: number;
  readonly freeBytes: number;
}

/** One committed partition file as a storage lists it after a restart. */
export interface StoredFile extends PartitionFileKey {
  /** Where the data is: a local path, hdfs://… or s3://… URL (reported to the driver). */
  readonly location: string;
  readonly index: PartitionIndex;
}

/** One shuffle directory found on a storage (reload after a restart). */
export interface StoredShuffle {
  readonly appId: string;
  readonly shuffleId: number;
  /** The COMMITTED marker is there. */
  readonly committed: boolean;
  /** Files whose index and data check out (data length = index length). */
  readonly files: readonly StoredFile[];
  /** Files with an index that does not check out (logged by the storage, not served). */
  readonly skipped: number;
}

/** Bytes of a committed file, read for the read server. */
export interface ChunkBytes {
  readonly body: Buffer;
  /** Call once nothing references `body` any more (the socket wrote it). Idempotent. */
  readonly release: () => void;
}

export interface ReadableFile {
  /**
   * Bytes [position, position + length). Rejects with WireProtocolError CORRUPT_FILE when the
   * file is shorter than that, with another error when the storage cannot be read.
   */
  read(position: number, length: number): Promise<ChunkBytes>;
  close(): Promise<void>;
}

/**
 * A partition file being written. Writes come strictly in order, each starting where the
 * previous one ended; at most `Storage.writesInFlight` of them at once per storage (a
 * storage with one write at a time per file, like HDFS APPEND, serializes them itself).
 */
export interface WritableFile {
  /** Where the data goes (local path or URL). */
  readonly location: string;
  /**
   * Writes the first `length` bytes of `bufs` at `position` (= the bytes written before).
   * Every write but the file's last has a length that is a multiple of
   * `Storage.writeAlignment`; the buffers are what `takeBuffers` gave, so the last write may
   * be padded inside them up to the alignment (local O_DIRECT does, and truncates at commit).
   * A rejection loses the file on this worker (the replica has it).
   */
  write(bufs: readonly Buffer[], length: number, position: number): Promise<void>;
  /**
   * Makes the file final and servable: every write has resolved; the data is made durable
   * (fsync, multipart completion, …) with exactly `index.fileLength` bytes, then the index is
   * written atomically. Called once.
   */
  commit(index: PartitionIndex, fsync: boolean): Promise<void>;
  /** Gives up the file: stops, and removes what was written (best effort). Idempotent. */
  abort(): Promise<void>;
  /**
   * Bytes [position, position + length) of what was written so far (every write resolved),
   * for moving the file to another tier (storage.remoteAfterBytes). Only local disks have it.
   */
  readWritten?(position: number, length: number): Promise<Buffer>;
}

/** A partition file none of whose bytes reached its storage before the commit (commitWhole). */
export interface WholeFile {
  readonly key: PartitionFileKey;
  /**
   * Every byte of the file, in one Buffer or in the pieces it was staged in; unchanged until
   * commitWhole settles.
   */
  readonly bytes: Buffer | readonly Buffer[];
  readonly index: PartitionIndex;
}

export interface Storage {
  readonly kind: StorageKind;
  /** A directory or URL: logs, metrics, heartbeats. */
  readonly name: string;
  /** Every write but a file's last is a multiple of this (4 KiB for O_DIRECT, the part size for S3). */
  readonly writeAlignment: number;
  /** The steady-state write: a partition flushes once it holds this much. */
  readonly bufferBytes: number;
  /** Writes in flight at once on this storage. */
  readonly writesInFlight: number;
  /** Bytes waiting for or in a write. */
  readonly queuedBytes: number;
  /** Milliseconds the oldest write or probe in progress has been running (0 when none). */
  oldestOperationMs(): number;

  /**
   * The storage's pooled buffers (write-buffers.ts): `take(bytes)` gives buffers for a write
   * of `bytes` (default bufferBytes), together at least `bytes` rounded up to 4 KiB, and
   * staging pieces in which pushed bytes wait until a flush copies them out.
   */
  readonly buffers: WriteBuffers;
  /**
   * write() takes full staging pieces as they are (aligned, any number of them): the flush
   * hands them over instead of copying them into a buffer (the local disk's writev).
   */
  readonly writesPieces?: boolean;

  /** Records, durably, that this worker is about to acknowledge data of the shuffle here. */
  markAccepted(appId: string, shuffleId: number): Promise<void>;
  /** Writes the COMMITTED marker once the shuffle's commit finished here. */
  markCommitted(appId: string, shuffleId: number): Promise<void>;
  create(key: PartitionFileKey): Promise<WritableFile>;
  /**
   * Commits files held whole in memory (most of a shuffle of 10^5+ small partitions): each
   * written, made durable and indexed as create() + write() + WritableFile.commit() would,
   * in a fraction of the calls. Per file, its location or why it failed (a failed file leaves
   * nothing behind). Optional: without it, such files go the create-write-commit way.
   */
  commitWhole?(files: readonly WholeFile[], fsync: boolean): Promise<(string | Error)[]>;
  openRead(file: StoredFile): Promise<ReadableFile>;
  /** Deletes a shuffle's directory (files, markers, unfinished uploads); returns the bytes. */
  deleteShuffle(appId: string, shuffleId: number): Promise<number>;
  /** Deletes an app's directory; returns the bytes. */
  deleteApp(appId: string): Promise<number>;
  /** Every shuffle directory on this storage (reload after a restart). */
  list(): Promise<StoredShuffle[]>;
  usage(): Promise<StorageUsage>;
  /** Writes, reads back and deletes a small file; rejects when the storage does not work. */
  probe(): Promise<void>;
  close(): Promise<void>;
}
