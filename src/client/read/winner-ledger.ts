// Which blocks a reader keeps (docs/architecture.md#lifecycle-of-one-shuffle step 8): only blocks of each mapId's winning attempt,
// each (mapId, batchId) once. It also totals what was kept per winner, so the reader can check
// it against what the winner reported with MapperEnd (blocks, bytes and the CRC-32 of the
// block CRCs combined in batchId order; driver.proto PartitionWritten).
import { crc32Combine } from '../../common/wire/crc.js';
import type { BlockHeader } from '../../common/wire/index.js';
import type { WinningAttempt__Output } from '../../common/proto/gen/sluice/v1/WinningAttempt.js';

export type Admission = 'keep' | 'loser' | 'duplicate';

interface Tally {
  readonly expected: WinningAttempt__Output;
  readonly seen: Map<number, [crc: number, length: number]>;
  bytes: number;
}

export class WinnerLedger {
  readonly #byMap = new Map<number, Tally>();

  constructor(winners: readonly WinningAttempt__Output[]) {
    for (const w of winners) this.#byMap.set(w.mapId, { expected: w, seen: new Map(), bytes: 0 });
  }

  /** What the reader does with a block, without counting it (see keep()). */
  classify(h: BlockHeader): Admission {
    const t = this.#byMap.get(h.mapId);
    if (!t || t.expected.attemptId !== h.attemptId) return 'loser';
    return t.seen.has(h.batchId) ? 'duplicate' : 'keep';
  }

  /**
   * Counts a block classified 'keep' as read. Only once its records reached the caller: a
   * block counted and then not delivered (it failed to decode) would make its copy on another
   * replica a "duplicate", and its records would be lost without an error.
   */
  keep(h: BlockHeader): void {
    const t = this.#byMap.get(h.mapId)!;
    t.seen.set(h.batchId, [h.crc32, 24 + h.storedLength]);
    t.bytes += 32 + h.storedLength;
  }

  /** One line per winner whose kept blocks differ from its MapperEnd totals. */
  mismatches(): string[] {
    const out: string[] = [];
    for (const [mapId, t] of this.#byMap) {
      const e = t.expected;
      const crc = [...t.seen.entries()]
        .sort((a, b) => a[0] - b[0])
        .reduce((acc, [, [c, len]]) => crc32Combine(acc, c, len), 0);
      if (t.seen.size !== e.blocks || t.bytes !== Number(e.bytes) || crc !== e.crc32)
        out.push(
          `map ${mapId} attempt ${e.attemptId}: read ${t.seen.size} blocks / ${t.bytes} bytes, it wrote ${e.blocks} / ${e.bytes}${crc !== e.crc32 && t.seen.size === e.blocks ? ' (CRC differs)' : ''}`,
        );
    }
    return out;
  }
}
