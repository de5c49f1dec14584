// The worker's budget of partition files open for writing: an open past it first closes the
// least recently used idle file, or waits while every open file is busy; the default comes
// from the process's limit on descriptors.
import { describe, expect, it } from 'vitest';
import { defaultOpenFileBudget, OpenFiles, type Reopenable } from './open-files.js';

class File implements Reopenable {
  busy = false;
  released = 0;
  release(): Promise<void> {
    this.released++;
    return Promise.resolve();
  }
}

async function open(budget: OpenFiles, file: File): Promise<void> {
  await budget.admit();
  budget.opened(file);
}

describe('OpenFiles', () => {
  it('closes the least recently used idle files to admit another', async () => {
    const budget = new OpenFiles(2);
    const [a, b, c, d] = [new File(), new File(), new File(), new File()];
    await open(budget, a);
    await open(budget, b);
    budget.touch(a); // a is now the most recently used
    await open(budget, c);
    expect([a.released, b.released, c.released]).toEqual([0, 1, 0]);
    a.busy = true;
    await open(budget, d); // a is busy: c goes although a is older
    expect([a.released, c.released, d.released]).toEqual([0, 1, 0]);
    expect(budget.count).toBe(2);
    expect(budget.reopened).toBe(2);
  });

  it('waits while every open file is busy, until one is idle or closed', async () => {
    const budget = new OpenFiles(1);
    const a = new File();
    a.busy = true;
    await open(budget, a);
    let admitted = false;
    const b = new File();
    const opening = open(budget, b).then(() => (admitted = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(admitted).toBe(false);
    a.busy = false;
    budget.wake();
    await opening;
    expect(a.released).toBe(1);
    expect(budget.count).toBe(1);
    // A file closed for good makes room for a waiting admission too.
    b.busy = true;
    const c = new File();
    const third = open(budget, c);
    budget.forget(b);
    await third;
    expect(b.released).toBe(0);
    expect(budget.count).toBe(1);
  });

  it('a failed open gives its room back', async () => {
    const budget = new OpenFiles(1);
    await budget.admit();
    expect(budget.count).toBe(1);
    budget.abandoned();
    expect(budget.count).toBe(0);
  });

  it('refuses a budget that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new OpenFiles(bad)).toThrow(RangeError);
  });

  it('defaults to a quarter of the soft limit on open files, at least 64', () => {
    const limits = (soft: string) =>
      `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                1048576              files\n`;
    expect(defaultOpenFileBudget(limits('20000'))).toBe(5000);
    expect(defaultOpenFileBudget(limits('100'))).toBe(64);
    expect(defaultOpenFileBudget(limits('unlimited'))).toBe(262144);
    expect(defaultOpenFileBudget('')).toBe(256); // no /proc: 1024 assumed
    expect(defaultOpenFileBudget()).toBeGreaterThanOrEqual(64);
  });
});
