// A byte range held as several Buffers (views of the socket chunks a frame arrived in), read
// without joining them: joining a 1 MiB push body from 64 KiB socket chunks cost a fresh
// allocation and a copy per frame, the largest cost on the worker's ingest path (bench/README).

/** Total length of `parts`. */
export function partsLength(parts: readonly Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Views of bytes [start, end) of `parts` (no copy; empty list for an empty range). */
export function sliceParts(parts: readonly Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const p of parts) {
    const next = at + p.length;
    if (next > start && at < end)
      out.push(p.subarray(Math.max(0, start - at), Math.min(p.length, end - at)));
    if (next >= end) break;
    at = next;
  }
  return out;
}

/** The parts as one Buffer: the only part itself, else one copy. */
export function joinParts(parts: readonly Buffer[]): Buffer {
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts as Buffer[]);
}

/**
 * Sequential reader over parts: `take(n)` returns the next n bytes as views (no copy),
 * `read(n)` as one contiguous Buffer (a view when they lie in one part, else a small copy).
 */
export class PartsCursor {
  readonly #parts: readonly Buffer[];
  #index = 0;
  #offset = 0;
  #remaining: number;

  constructor(parts: readonly Buffer[]) {
    this.#parts = parts;
    this.#remaining = partsLength(parts);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#remaining;
  }

  /** Up to n bytes, contiguous. */
  read(n: number): Buffer {
    n = Math.min(n, this.#remaining);
    this.#skipEmpty();
    const head = this.#parts[this.#index];
    if (head !== undefined && head.length - this.#offset >= n) {
      const view = head.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return view;
    }
    return joinParts(this.take(n));
  }

  /** Up to n bytes, as views of the parts. */
  take(n: number): Buffer[] {
    n = Math.min(n, this.#remaining);
    const out: Buffer[] = [];
    while (n > 0) {
      this.#skipEmpty();
      const part = this.#parts[this.#index]!;
      const k = Math.min(part.length - this.#offset, n);
      out.push(part.subarray(this.#offset, this.#offset + k));
      this.#advance(k);
      n -= k;
    }
    return out;
  }

  #advance(n: number): void {
    this.#offset += n;
    this.#remaining -= n;
  }

  #skipEmpty(): void {
    while (this.#index < this.#parts.length && this.#offset >= this.#parts[this.#index]!.length) {
      this.#index++;
      this.#offset = 0;
    }
  }
}
