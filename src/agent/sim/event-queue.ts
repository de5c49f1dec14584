// Binary min-heap of timed events; ties break by insertion order so runs are deterministic.

export interface SimEvent<K extends string = string> {
  readonly time: number;
  readonly kind: K;
  readonly ref: number;
}

interface Entry<K extends string> extends SimEvent<K> {
  readonly seq: number;
}

export class EventQueue<K extends string> {
  readonly #heap: Entry<K>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(time: number, kind: K, ref = 0): void {
    const h = this.#heap;
    h.push({ time, kind, ref, seq: this.#seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): SimEvent<K> | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less<K extends string>(a: Entry<K>, b: Entry<K>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
