// The staging-piece pool's trimming: what a load keeps using stays pooled, what it stopped
// using goes (WriteBuffers.trimIdle).
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../common/native.js';
import { PIECE_BYTES, WriteBuffers } from './write-buffers.js';

const open: WriteBuffers[] = [];
afterEach(() => {
  for (const b of open.splice(0)) b.close();
});

function pool(): WriteBuffers {
  const b = new WriteBuffers({
    bufferBytes: 64 * 1024,
    keep: 4,
    keepPieces: 10_000,
    native: native(),
  });
  open.push(b);
  return b;
}

describe('WriteBuffers.trimIdle', () => {
  it('keeps the pieces a steady load takes, and drops them once the load stops', () => {
    const buffers = pool();
    const held = Array.from({ length: 300 }, () => buffers.takePiece());
    expect(held.every((p) => p.length === PIECE_BYTES)).toBe(true);
    for (const p of held) buffers.givePiece(p);
    const idle = buffers.idlePieces;
    expect(idle).toBeGreaterThanOrEqual(300);
    buffers.trimIdle(); // starts an interval

    // A load cycling 300 pieces through the pool in every interval loses none of them.
    for (let interval = 0; interval < 3; interval++) {
      const again = Array.from({ length: 300 }, () => buffers.takePiece());
      for (const p of again) buffers.givePiece(p);
      expect(buffers.trimIdle()).toBe(interval === 0 ? idle - 300 : 0);
      expect(buffers.idlePieces).toBe(300);
    }
    // The load stops: one quiet interval later every piece is dropped, and a new take
    // allocates again rather than handing out a dropped piece.
    expect(buffers.trimIdle()).toBe(300);
    expect(buffers.idlePieces).toBe(0);
    const fresh = buffers.takePiece();
    expect(held.some((p) => p.buffer === fresh.buffer)).toBe(false);
  });

  it('drops the longest idle pieces, never one a take handed out since', () => {
    const buffers = pool();
    const first = Array.from({ length: 128 }, () => buffers.takePiece());
    for (const p of first) buffers.givePiece(p);
    buffers.trimIdle();
    const taken = Array.from({ length: 10 }, () => buffers.takePiece());
    for (const p of taken) buffers.givePiece(p);
    expect(buffers.idlePieces).toBe(128);
    expect(buffers.trimIdle()).toBe(118);
    expect(buffers.idlePieces).toBe(10);
    // The 10 pieces in use during the interval are the ones still pooled.
    const left = Array.from({ length: buffers.idlePieces }, () => buffers.takePiece());
    expect(new Set(left)).toEqual(new Set(taken));
  });
});
