// The committed TypeScript types in src/common/proto/gen must be what `npm run gen:proto`
// produces from proto/: a proto change without regenerated types fails here (docs/protocol.md).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';
import { sluiceV1 } from '../src/common/proto/load.js';

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const full = join(e.parentPath, e.name);
      out.set(relative(dir, full), readFileSync(full, 'utf8'));
    }
  }
  return out;
}

describe('generated protocol types', () => {
  const out = mkdtempSync(join(tmpdir(), 'sluice-gen-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('are current with proto/ (run `npm run gen:proto` and commit when this fails)', () => {
    execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts/gen-proto.mjs'), '--out', out], {
      stdio: 'pipe',
    });
    const fresh = files(out);
    const committed = files(join(PACKAGE_ROOT, 'src/common/proto/gen'));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) expect(committed.get(name), name).toBe(text);
  });

  it('load at runtime with every service the design names', () => {
    const v1 = sluiceV1();
    const methods = (svc: { service: Record<string, unknown> }) => Object.keys(svc.service).sort();
    expect(methods(v1.ManagerService)).toEqual(
      [
        'AllocateShuffle',
        'AppHeartbeat',
        'GetClusterState',
        'ReallocateGroup',
        'RegisterApp',
        'RegisterWorker',
        'ReleaseShuffle',
        'GetShuffle',
        'UnregisterApp',
        'WorkerHeartbeat',
      ].sort(),
    );
    expect(methods(v1.WorkerControlService)).toEqual([
      'CommitFiles',
      'Decommission',
      'DestroyShuffle',
    ]);
    expect(methods(v1.DriverService)).toEqual([
      'GetFileGroups',
      'GetShuffleGroups',
      'MapperEnd',
      'Reallocate',
    ]);
    expect(methods(v1.AgentService)).toEqual([
      'ExecutorEvent',
      'StageCompleted',
      'StageProgress',
      'StageSubmitted',
      'WatchDecisions',
    ]);
  });
});
