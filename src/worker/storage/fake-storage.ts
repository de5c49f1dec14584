// A fake storage for tests of the code above the storage seam (health, storage choice): a
// real local disk's behaviour, by delegation, except for the methods a test overrides — a
// probe that never finishes, a usage report of a nearly full disk, an operation that has
// run for long. What a real disk cannot be made to do on demand.
import type { LocalDisk } from './local-disk.js';
import type { Storage } from './storage.js';

export function withOverrides(disk: LocalDisk, overrides: Partial<Storage>): Storage {
  return {
    kind: disk.kind,
    name: disk.name,
    writeAlignment: disk.writeAlignment,
    bufferBytes: disk.bufferBytes,
    writesInFlight: disk.writesInFlight,
    buffers: disk.buffers,
    get queuedBytes() {
      return disk.queuedBytes;
    },
    oldestOperationMs: () => disk.oldestOperationMs(),
    markAccepted: (appId, shuffleId) => disk.markAccepted(appId, shuffleId),
    markCommitted: (appId, shuffleId) => disk.markCommitted(appId, shuffleId),
    create: (k) => disk.create(k),
    commitWhole: (files, fsync) => disk.commitWhole(files, fsync),
    openRead: (file) => disk.openRead(file),
    deleteShuffle: (appId, shuffleId) => disk.deleteShuffle(appId, shuffleId),
    deleteApp: (appId) => disk.deleteApp(appId),
    list: () => disk.list(),
    usage: () => disk.usage(),
    probe: () => disk.probe(),
    close: () => disk.close(),
    ...overrides,
  };
}
