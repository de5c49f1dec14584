import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32Combine } from '../../common/wire/crc.js';
import { parseBlockHeader, type BlockHeader } from '../../common/wire/index.js';
import type { WinningAttempt__Output } from '../../common/proto/gen/sluice/v1/WinningAttempt.js';
import { BlockEncoder } from '../write/block-codec.js';
import { WinnerLedger } from './winner-ledger.js';

const encoder = new BlockEncoder('lz4');

/** What a reader does with a block it delivers: classify, and keep it if it is to be kept. */
function deliver(l: WinnerLedger, h: BlockHeader): string {
  const verdict = l.classify(h);
  if (verdict === 'keep') l.keep(h);
  return verdict;
}

function block(mapId: number, attemptId: number, batchId: number, raw: Buffer): BlockHeader {
  const b = encoder.encode({ mapId, attemptId, batchId }, raw);
  return parseBlockHeader(b.header);
}

/** What a writer reports for these blocks: push-writer.ts #written, done independently. */
function totals(mapId: number, attemptId: number, blocks: BlockHeader[]): WinningAttempt__Output {
  const sorted = [...blocks].sort((a, b) => a.batchId - b.batchId);
  return {
    mapId,
    attemptId,
    essAddress: '',
    blocks: blocks.length,
    bytes: blocks.reduce((n, h) => n + 32 + h.storedLength, 0),
    crc32: sorted.reduce((acc, h) => crc32Combine(acc, h.crc32, 24 + h.storedLength), 0),
  };
}

// Map 0's winner is attempt 1 with batches 0..2 (2 written in an earlier epoch, so it comes
// first in the file); map 1's winner is attempt 0 with one batch.
const m0 = [
  block(0, 1, 2, Buffer.alloc(2000, 'c')),
  block(0, 1, 0, randomBytes(300)),
  block(0, 1, 1, Buffer.alloc(0)),
];
const m1 = [block(1, 0, 0, Buffer.from('only'))];
const winners = () => [totals(0, 1, m0), totals(1, 0, m1)];

describe('WinnerLedger.admit', () => {
  it.each<{ name: string; header: BlockHeader; first: string; again: string }>([
    { name: "a winner's block", header: m0[1]!, first: 'keep', again: 'duplicate' },
    {
      name: 'a losing attempt of a known map',
      header: block(0, 0, 0, Buffer.from('x')),
      first: 'loser',
      again: 'loser',
    },
    {
      name: 'an unknown map',
      header: block(9, 0, 0, Buffer.from('x')),
      first: 'loser',
      again: 'loser',
    },
  ])('$name: $first, then $again', ({ header, first, again }) => {
    const l = new WinnerLedger(winners());
    expect(deliver(l, header)).toBe(first);
    expect(deliver(l, header)).toBe(again);
  });

  it('the same batchId from another epoch or replica is a duplicate even with other bytes', () => {
    const l = new WinnerLedger(winners());
    expect(deliver(l, m0[0]!)).toBe('keep');
    expect(deliver(l, block(0, 1, 2, Buffer.from('re-pushed')))).toBe('duplicate');
  });
});

describe('WinnerLedger.mismatches', () => {
  it('matches when every block was kept once, in any order, with duplicates and losers around', () => {
    const l = new WinnerLedger(winners());
    for (const h of [m0[0]!, m1[0]!, block(0, 0, 5, Buffer.from('loser')), m0[2]!, m0[0]!, m0[1]!])
      deliver(l, h);
    expect(l.mismatches()).toEqual([]);
  });

  it('a winner that wrote nothing to the partition matches an empty read', () => {
    const l = new WinnerLedger([
      { mapId: 4, attemptId: 0, blocks: 0, bytes: 0, crc32: 0, essAddress: '' },
    ]);
    expect(l.mismatches()).toEqual([]);
  });

  it('the bytes total may arrive as a string (uint64 over gRPC)', () => {
    const w = totals(1, 0, m1);
    const l = new WinnerLedger([{ ...w, bytes: String(w.bytes) as unknown as number }]);
    deliver(l, m1[0]!);
    expect(l.mismatches()).toEqual([]);
  });

  it.each<{
    name: string;
    expected: () => WinningAttempt__Output[];
    admit: BlockHeader[];
    message: RegExp;
  }>([
    {
      name: 'a block is missing',
      expected: winners,
      admit: [m0[0]!, m0[2]!, m1[0]!],
      message: /^map 0 attempt 1: read 2 blocks \/ \d+ bytes, it wrote 3 \/ \d+$/,
    },
    {
      name: 'a map wrote blocks but none were read',
      expected: winners,
      admit: [...m0],
      message: /^map 1 attempt 0: read 0 blocks \/ 0 bytes, it wrote 1 \/ 36$/,
    },
    {
      name: 'the bytes differ',
      expected: () => [{ ...totals(1, 0, m1), bytes: 37 }],
      admit: [...m1],
      message: /^map 1 attempt 0: read 1 blocks \/ 36 bytes, it wrote 1 \/ 37$/,
    },
    {
      name: 'the CRC differs (same count and bytes)',
      expected: () => [{ ...totals(1, 0, m1), crc32: (totals(1, 0, m1).crc32 ^ 1) >>> 0 }],
      admit: [...m1],
      message: /\(CRC differs\)$/,
    },
    {
      name: 'a different block with the same batchId and size was read',
      expected: () => [totals(1, 0, m1)],
      admit: [block(1, 0, 0, Buffer.from('ONLY'))],
      message: /CRC differs/,
    },
  ])('reports a mismatch when $name', ({ expected, admit, message }) => {
    const l = new WinnerLedger(expected());
    for (const h of admit) deliver(l, h);
    const out = l.mismatches();
    expect(out.length).toBe(1);
    expect(out[0]).toMatch(message);
  });
});

describe('a block classified but not kept', () => {
  it('is still wanted from the next replica (a failed decode loses nothing)', () => {
    const m0 = [block(0, 0, 0, Buffer.from('abc'))];
    const l = new WinnerLedger([totals(0, 0, m0)]);
    expect(l.classify(m0[0]!)).toBe('keep'); // replica 1: decoding failed, not kept
    expect(l.classify(m0[0]!)).toBe('keep'); // replica 2: still wanted
    l.keep(m0[0]!);
    expect(l.classify(m0[0]!)).toBe('duplicate');
    expect(l.mismatches()).toEqual([]);
  });
});
