import { describe, expect, it } from 'vitest';
import { decodeRecords } from '../records.js';
import { INITIAL_BYTES, RecordBufferPool } from './record-buffer-pool.js';

const fill = (bytes: number) => Buffer.alloc(bytes, 'r');

describe('RecordBufferPool', () => {
  it('gives back an emptied buffer that kept its grown memory', () => {
    const pool = new RecordBufferPool(1024 * 1024);
    const b = pool.take();
    b.append(fill(10_000));
    const grown = b.capacity;
    pool.give(b);
    expect(pool.bytes).toBe(grown);
    const again = pool.take();
    expect(again).toBe(b);
    expect(again.length).toBe(0);
    expect(again.records).toBe(0);
    expect(again.capacity).toBe(grown);
    expect(pool.bytes).toBe(0);
    again.append(Buffer.from('next task'));
    expect([...decodeRecords(again.view())].map(String)).toEqual(['next task']);
  });

  it('keeps at most maxBytes of capacity and drops the rest', () => {
    const pool = new RecordBufferPool(40_000);
    const buffers = [pool.take(), pool.take(), pool.take()];
    for (const b of buffers) b.append(fill(10_000)); // 16 KiB each once grown
    for (const b of buffers) pool.give(b);
    expect(pool.bytes).toBe(2 * 16_384);
    expect(pool.take()).toBe(buffers[1]);
    expect(pool.take()).toBe(buffers[0]);
    expect(pool.take()).not.toBe(buffers[2]); // dropped: a new one
  });

  it('drops buffers that never grew past their initial capacity', () => {
    const pool = new RecordBufferPool(1024 * 1024);
    const small = pool.take();
    small.append(Buffer.from('tiny'));
    expect(small.capacity).toBe(INITIAL_BYTES);
    pool.give(small);
    expect(pool.bytes).toBe(0);
    expect(pool.take()).not.toBe(small);
  });

  it('an empty pool makes new buffers', () => {
    const pool = new RecordBufferPool(0);
    const a = pool.take();
    const b = pool.take();
    expect(a).not.toBe(b);
    pool.give(a);
    expect(pool.bytes).toBe(0);
  });
});
