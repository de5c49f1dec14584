// StorageHealth over real LocalDisks in temp dirs (docs/architecture.md#storage-health): a
// disk that passes its probe is healthy; the fault file (an EIO on every operation) makes it
// failing at the next check, recordError() at once, and it is healthy again once the error
// window has passed and a probe passes; a storage with an operation running past hungMs is
// hung; one above the usage watermark is high-usage; every change is reported once.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../common/native.js';
import { SILENT_LOGGER } from '../../common/obs/logger.js';
import { ALIGNMENT, LocalDisk } from './local-disk.js';
import { StorageHealth, type StorageHealthOptions } from './storage-health.js';
import type { Storage, StorageState, StorageUsage } from './storage.js';
import { withOverrides } from './fake-storage.js';

/** The fault-injection file (LocalDiskOptions.faultFile): EIO on that disk while it exists. */
const FAULT_FILE = 'FAIL_IO';
const ERROR_WINDOW_MS = 60_000;

/** A usage report of `usedShare` of a 1 GB storage. */
const usageOf = (usedShare: number): StorageUsage => ({
  capacityBytes: 1e9,
  freeBytes: Math.round((1 - usedShare) * 1e9),
});

describe('StorageHealth', () => {
  const dirs: string[] = [];
  const healths: StorageHealth[] = [];
  afterEach(() => {
    for (const h of healths.splice(0)) h.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function localDisk(): LocalDisk {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sh-'));
    dirs.push(dir);
    return new LocalDisk({
      dir,
      writesInFlight: 2,
      directIo: true,
      bufferBytes: 4 * ALIGNMENT,
      native: native(),
      faultFile: FAULT_FILE,
    });
  }

  /** A health tracker on a clock the test moves (`clock.ms`), transitions recorded. */
  function track(storages: readonly Storage[], opts: Partial<StorageHealthOptions> = {}) {
    const clock = { ms: 1_000_000 };
    const transitions: [string, StorageState, StorageState][] = [];
    const health = new StorageHealth({
      storages,
      highWatermark: 0.99,
      hungMs: 30_000,
      probeIntervalMs: 60_000,
      errorWindowMs: ERROR_WINDOW_MS,
      logger: SILENT_LOGGER,
      now: () => clock.ms,
      onTransition: (storage, from, to) => transitions.push([storage.name, from, to]),
      ...opts,
    });
    healths.push(health);
    return { health, clock, transitions };
  }

  const fault = (disk: LocalDisk) => writeFileSync(join(disk.dir, FAULT_FILE), '');
  const mend = (disk: LocalDisk) => rmSync(join(disk.dir, FAULT_FILE));

  it('a working disk is healthy after check(), with its usage, and the probe leaves nothing', async () => {
    const disk = localDisk();
    const { health, transitions } = track([disk]);
    expect(health.state(disk)).toBe('healthy'); // before any check: assumed
    await health.check();
    expect(health.state(disk)).toBe('healthy');
    const [status] = health.status();
    expect(status).toMatchObject({ storage: disk, state: 'healthy', reason: '', errors: 0 });
    expect(status!.usage.capacityBytes).toBeGreaterThan(0);
    expect(status!.usage.freeBytes).toBeGreaterThan(0);
    expect(status!.usage.freeBytes).toBeLessThanOrEqual(status!.usage.capacityBytes);
    expect(readdirSync(disk.dir)).toEqual([]); // the probe file was deleted
    expect(transitions).toEqual([]);
  });

  it('a disk whose probe fails (fault file) is failing after check(), healthy once it passes', async () => {
    const [disk, other] = [localDisk(), localDisk()];
    const { health } = track([disk, other]);
    fault(disk);
    expect(health.state(disk)).toBe('healthy'); // nothing checked yet
    await health.check();
    expect(health.state(disk)).toBe('failing');
    expect(health.status()[0]!.reason).toMatch(/^probe failed: EIO/);
    expect(health.state(other)).toBe('healthy');
    expect(existsSync(join(disk.dir, '.sluice-probe'))).toBe(false);
    mend(disk);
    await health.check();
    expect(health.state(disk)).toBe('healthy');
  });

  it('recordError() makes a disk failing at once, healthy after errorWindowMs once a probe passes', async () => {
    const disk = localDisk();
    const { health, clock } = track([disk]);
    await health.check();
    // Out of file descriptors is the process's limit, not the disk's fault.
    for (const code of ['EMFILE', 'ENFILE'])
      health.recordError(disk, Object.assign(new Error(`${code}: too many open files`), { code }));
    expect(health.state(disk)).toBe('healthy');
    health.recordError(disk, new Error('EIO: write failed'));
    expect(health.state(disk)).toBe('failing');
    expect(health.status()[0]).toMatchObject({ reason: 'I/O error: EIO: write failed', errors: 1 });
    // Within the window a passing probe does not clear it.
    clock.ms += ERROR_WINDOW_MS - 1;
    await health.check();
    expect(health.state(disk)).toBe('failing');
    // Past the window it stays failing until a check has a probe pass...
    clock.ms += 2;
    expect(health.state(disk)).toBe('failing');
    fault(disk);
    await health.check();
    expect(health.state(disk)).toBe('failing'); // ...which this one does not
    expect(health.status()[0]!.reason).toMatch(/^probe failed/);
    mend(disk);
    await health.check();
    expect(health.state(disk)).toBe('healthy');
    expect(health.status()[0]).toMatchObject({ reason: '', errors: 1 });
    // An error on a storage it does not track changes nothing.
    health.recordError(localDisk(), new Error('elsewhere'));
    expect(health.status().map((s) => s.state)).toEqual(['healthy']);
  });

  it('a storage with an operation past hungMs is hung (a probe that never finishes)', async () => {
    const disk = localDisk();
    // Fake: a disk whose probe answers at once. A real probe could itself take longer than
    // the 50 ms below on a loaded machine, and be judged hung too (seen in a full-suite run).
    const other = withOverrides(localDisk(), { probe: () => Promise.resolve() });
    const clock = { ms: 0 };
    let probeStartedMs: number | undefined;
    let probes = 0;
    // Fake: a disk whose probe never finishes; like LocalDisk, it counts the probe as an
    // operation in progress.
    const stuck = withOverrides(disk, {
      probe: () => {
        probes++;
        probeStartedMs = clock.ms;
        return new Promise<void>(() => undefined);
      },
      oldestOperationMs: () => (probeStartedMs === undefined ? 0 : clock.ms - probeStartedMs),
    });
    const { health, transitions } = track([stuck, other], { hungMs: 50, now: () => clock.ms });
    clock.ms = 1_000_000;
    const checking = health.check();
    clock.ms += 60; // the check waits hungMs (real time) for the probe, then judges
    await checking;
    expect(health.state(stuck)).toBe('hung');
    expect(health.status()[0]!.reason).toMatch(/has run for 60 ms \(storage.hungMs 50\)/);
    expect(health.state(other)).toBe('healthy'); // checked in the same pass, not held up
    // The next check does not start a second probe; it is still hung.
    clock.ms += 1000;
    await health.check();
    expect(probes).toBe(1);
    expect(health.state(stuck)).toBe('hung');
    expect(transitions).toEqual([[disk.dir, 'healthy', 'hung']]);
  });

  it('a storage whose oldest write has run past hungMs is hung, even if its probe passes', async () => {
    let oldestMs = 0;
    // Fake: a disk with a write stuck for `oldestMs`.
    const slow = withOverrides(localDisk(), { oldestOperationMs: () => oldestMs });
    const { health } = track([slow], { hungMs: 30_000 });
    oldestMs = 30_000;
    await health.check();
    expect(health.state(slow)).toBe('healthy'); // not past it
    oldestMs = 30_001;
    await health.check();
    expect(health.state(slow)).toBe('hung');
    oldestMs = 0; // the write finished
    await health.check();
    expect(health.state(slow)).toBe('healthy');
  });

  it('a storage above the watermark is high-usage; failing outranks it', async () => {
    const usedShares = [0.95, 0.5];
    const disks = [localDisk(), localDisk()];
    // Fakes: the disks, reporting the usage the test sets.
    const storages = disks.map((d, i) =>
      withOverrides(d, { usage: async () => usageOf(usedShares[i]!) }),
    );
    const { health } = track(storages, { highWatermark: 0.9 });
    await health.check();
    expect(health.state(storages[0]!)).toBe('high-usage');
    expect(health.status()[0]!.reason).toBe('95.0% used (storage.diskHighWatermark 0.9)');
    expect(health.state(storages[1]!)).toBe('healthy');
    expect(health.status()[0]!.usage).toEqual(usageOf(0.95));
    fault(disks[0]!);
    await health.check();
    expect(health.state(storages[0]!)).toBe('failing');
    mend(disks[0]!);
    usedShares[0] = 0.89;
    await health.check();
    expect(health.state(storages[0]!)).toBe('healthy');
  });

  it('reports every change once, with from and to', async () => {
    const [disk, other] = [localDisk(), localDisk()];
    const { health, clock, transitions } = track([disk, other]);
    await health.check(); // healthy -> healthy: no change
    health.recordError(disk, new Error('EIO'));
    health.recordError(disk, new Error('EIO again')); // still failing: no change
    await health.check(); // within the window: no change
    clock.ms += ERROR_WINDOW_MS;
    await health.check();
    fault(disk);
    await health.check();
    await health.check();
    mend(disk);
    await health.check();
    expect(transitions).toEqual([
      [disk.dir, 'healthy', 'failing'],
      [disk.dir, 'failing', 'healthy'],
      [disk.dir, 'healthy', 'failing'],
      [disk.dir, 'failing', 'healthy'],
    ]);
    expect(health.status().map((s) => s.errors)).toEqual([2, 0]);
  });

  it('start() checks at once, then every probeIntervalMs until stop()', async () => {
    const disk = localDisk();
    fault(disk);
    const { health } = track([disk], { probeIntervalMs: 20, now: Date.now });
    await health.start();
    expect(health.state(disk)).toBe('failing');
    mend(disk);
    await expect.poll(() => health.state(disk)).toBe('healthy');
    health.stop();
    fault(disk);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(health.state(disk)).toBe('healthy'); // no check after stop()
  });
});
