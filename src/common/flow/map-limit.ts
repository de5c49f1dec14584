// The one bounded-concurrency map: `fn` over `items`, at most `limit` at once, results in the
// order of `items`. Used wherever many small I/O operations must not all start at once
// (commits of thousands of files, index reads of a listing, ZooKeeper reads).
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
