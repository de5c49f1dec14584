import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.js';
import { RECORD_PREFIX_BYTES, RecordBuffer, decodeRecords, encodeRecords } from './records.js';

const hex = (bufs: Iterable<Buffer>): string[] => [...bufs].map((b) => b.toString('hex'));

describe('RecordBuffer', () => {
  it('grows past its initial size and keeps every record intact', () => {
    const b = new RecordBuffer(8);
    const records = [randomBytes(3), randomBytes(100), Buffer.alloc(0), randomBytes(5000)];
    let added = 0;
    for (const r of records) added += b.append(r);
    expect(added).toBe(records.reduce((n, r) => n + RECORD_PREFIX_BYTES + r.length, 0));
    expect(b.length).toBe(added);
    expect(b.records).toBe(4);
    expect(hex(decodeRecords(b.view()))).toEqual(hex(records));
  });

  it.each([
    { keep: true, name: 'keeps its memory' },
    { keep: false, name: 'hands its memory over' },
  ])('reset($keep) empties the buffer and $name', ({ keep }) => {
    const b = new RecordBuffer(16);
    b.append(Buffer.from('first record, long enough to grow'));
    const before = b.view();
    const snapshot = Buffer.from(before);
    b.reset(keep);
    expect(b.length).toBe(0);
    expect(b.records).toBe(0);
    expect(b.view().length).toBe(0);
    b.append(Buffer.from('zz'));
    expect(hex(decodeRecords(b.view()))).toEqual([Buffer.from('zz').toString('hex')]);
    // keep=false promises the old view is not overwritten by later appends.
    if (!keep) expect(before.equals(snapshot)).toBe(true);
  });

  // A RecordBuffer built with 0 initial bytes doubled 0 forever on its first append (#grow
  // never left its loop): the process hung instead of buffering the record.
  it('a buffer created with 0 initial bytes still grows on append', () => {
    const b = new RecordBuffer(0);
    b.append(Buffer.from('abc'));
    b.append(Buffer.alloc(0));
    expect(b.records).toBe(2);
    expect(hex(decodeRecords(b.view()))).toEqual(['616263', '']);
  });
});

describe('encodeRecords / decodeRecords', () => {
  it.each([
    { name: 'no records', records: [] as Buffer[] },
    { name: 'one empty record', records: [Buffer.alloc(0)] },
    { name: 'several empty records', records: [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)] },
    { name: 'mixed sizes', records: [Buffer.from('a'), Buffer.alloc(0), randomBytes(70_000)] },
    { name: 'a Uint8Array', records: [new Uint8Array([1, 2, 3])] },
  ])('round trip: $name', ({ records }) => {
    const framed = encodeRecords(records);
    expect(framed.length).toBe(records.reduce((n, r) => n + RECORD_PREFIX_BYTES + r.length, 0));
    const back = [...decodeRecords(framed)];
    expect(back.length).toBe(records.length);
    expect(hex(back)).toEqual(hex(records.map((r) => Buffer.from(r))));
  });

  it('frames a record as a big-endian u32 length then its bytes', () => {
    expect(encodeRecords([Buffer.from('hi')]).toString('hex')).toBe('000000026869');
  });

  it.each([
    {
      name: 'a prefix cut short',
      bytes: '000000',
      message: /truncated record prefix at byte 0 of 3/,
    },
    {
      name: 'a prefix after a good record cut short',
      bytes: '00000001aa0000',
      message: /truncated record prefix at byte 5 of 7/,
    },
    {
      name: 'a record longer than the block',
      bytes: '00000005aabb',
      message: /record of 5 bytes at byte 0 runs past the block \(6\)/,
    },
  ])('truncated framing throws, naming where: $name', ({ bytes, message }) => {
    const run = () => [...decodeRecords(Buffer.from(bytes, 'hex'))];
    expect(run).toThrow(SluiceError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      expect((err as SluiceError).code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    }
  });

  it('yields the good records before the broken one', () => {
    const gen = decodeRecords(Buffer.from('00000001aa00000009bb', 'hex'));
    expect(gen.next().value?.toString('hex')).toBe('aa');
    expect(() => gen.next()).toThrow(/runs past the block/);
  });
});
