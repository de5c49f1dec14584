// The ESS's open map outputs (src/ess/map-outputs.ts): each cached output holds its data file open, so
// what leaves the cache (evicted past maxOpen, forgotten, removed, closeAll at the ESS's close)
// must close its file, and a read must return the region's bytes whichever way it was served.
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { encodeMapOutputIndex, mapOutputBase } from '../src/common/map-output.js';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { waitFor } from '../src/testing/wait-for.js';
import { MapOutputs } from '../src/ess/map-outputs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-map-outputs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ref = (mapId: number, shuffleId = 0) => ({
  appId: 'app-1' as AppId,
  shuffleId: shuffleId as ShuffleId,
  mapId,
  attemptId: 0,
});

/** An output of 3 partitions of 10, 0 and 20 bytes, each byte its partition's number + map. */
async function writeOutput(mapId: number, shuffleId = 0): Promise<void> {
  const base = mapOutputBase(dir, ref(mapId, shuffleId));
  await mkdir(dirname(base), { recursive: true });
  const data = Buffer.concat([Buffer.alloc(10, mapId), Buffer.alloc(20, mapId + 2)]);
  await writeFile(`${base}.data`, data);
  await writeFile(`${base}.index`, encodeMapOutputIndex([0, 10, 10, 30]));
}

/** Data files of `dir` this process holds open. */
function openDataFiles(): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((p) => p.startsWith(dir) && p.endsWith('.data'));
}

it('reads regions with headroom, and keeps at most maxOpen files open', async () => {
  const outputs = new MapOutputs({ dir, maxOpen: 2, readConcurrency: 4 });
  for (let m = 0; m < 3; m++) await writeOutput(m);
  const r = await outputs.read(ref(1), 2, 5, 100, 4);
  expect(r.regionLength).toBe(20);
  expect(r.buffer.subarray(4)).toEqual(Buffer.alloc(15, 3));
  expect((await outputs.read(ref(1), 1, 0, 100)).buffer.length).toBe(0);
  await expect(outputs.read(ref(1), 3, 0, 100)).rejects.toMatchObject({ status: 'NOT_FOUND' });
  await expect(outputs.read(ref(1), 0, 11, 100)).rejects.toMatchObject({ status: 'NOT_FOUND' });
  await expect(outputs.read(ref(9), 0, 0, 100)).rejects.toMatchObject({ status: 'NOT_FOUND' });
  await outputs.read(ref(0), 0, 0, 100);
  await outputs.read(ref(2), 0, 0, 100);
  expect(outputs.size).toBe(2);
  // Map 1 was evicted and its file closed (fs.close completes on libuv's pool).
  await waitFor(() => openDataFiles().length === 2, { what: 'two open data files' });
  outputs.closeAll();
  expect(outputs.size).toBe(0);
  await waitFor(() => openDataFiles().length === 0, { what: 'no open data file' });
});

it("remove() deletes a shuffle's or an app's outputs and closes their files", async () => {
  const outputs = new MapOutputs({ dir, maxOpen: 10, readConcurrency: 4 });
  await writeOutput(0, 0);
  await writeOutput(1, 0);
  await writeOutput(0, 1);
  await Promise.all([ref(0, 0), ref(1, 0), ref(0, 1)].map((k) => outputs.read(k, 0, 0, 10)));
  expect(openDataFiles()).toHaveLength(3);
  expect(await outputs.remove('app-1', 0)).toBe(2);
  await waitFor(() => openDataFiles().length === 1, { what: 'one open data file' });
  await expect(outputs.read(ref(0, 0), 0, 0, 10)).rejects.toMatchObject({ status: 'NOT_FOUND' });
  expect((await outputs.read(ref(0, 1), 0, 0, 10)).buffer).toEqual(Buffer.alloc(10, 0));
  expect(await outputs.remove('app-1')).toBe(1);
  expect(readdirSync(dir)).toEqual([]);
  await waitFor(() => openDataFiles().length === 0, { what: 'no open data file' });
});
