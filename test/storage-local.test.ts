// The local disk against the storage contract (storage-conformance.ts), with O_DIRECT (the
// temp dir's filesystem permitting) and without; durable markers (fsynced with their
// directories) with O_DIRECT, plain ones without.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { native } from '../src/common/native.js';
import { LocalDisk } from '../src/worker/storage/local-disk.js';
import { storageConformance } from './storage-conformance.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

for (const directIo of [true, false]) {
  let dir = '';
  const make = () =>
    new LocalDisk({
      dir,
      writesInFlight: 3,
      directIo,
      bufferBytes: 64 * 1024,
      native: native(),
      syncMarkers: directIo, // both ways of writing the markers
    });
  storageConformance(`local disk (directIo=${directIo})`, {
    storage: async () => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-conf-'));
      roots.push(dir);
      return make();
    },
    reopen: async () => make(),
  });
}
