import { describe, expect, it } from 'vitest';
import { ThroughputSeries } from './throughput-series.js';

describe('ThroughputSeries', () => {
  it('averages one worker per bucket and sums workers for the cluster', () => {
    const t = new ThroughputSeries({ resolutionMs: 1_000, points: 10 });
    t.record('a', 10_000, 100, 10);
    t.record('a', 10_500, 300, 30); // same bucket: a's mean is 200 / 20
    t.record('b', 10_900, 50, 5);
    t.record('a', 11_200, 400, 0);
    const r = t.read(12_000, ['a', 'b', 'nobody']);
    expect(r.times).toEqual([10_000, 11_000]);
    expect(r.workers['a']).toEqual({ push: [200, 400], fetch: [20, 0] });
    expect(r.workers['b']).toEqual({ push: [50, null], fetch: [5, null] });
    expect(r.cluster).toEqual({ push: [250, 400], fetch: [25, 0] });
    expect(r.workers['nobody']).toBeUndefined();
  });

  it('leaves out the bucket in progress', () => {
    const t = new ThroughputSeries({ resolutionMs: 1_000, points: 10 });
    t.record('a', 5_100, 1, 1);
    expect(t.read(5_900).times).toEqual([]);
    expect(t.read(6_000).times).toEqual([5_000]);
  });

  it('keeps `points` buckets: older ones are overwritten, gaps read as null', () => {
    const t = new ThroughputSeries({ resolutionMs: 1_000, points: 4 });
    for (let s = 0; s < 10; s++) if (s !== 8) t.record('a', s * 1_000, s, 0);
    const r = t.read(10_000, ['a']);
    expect(r.times).toEqual([6_000, 7_000, 8_000, 9_000]);
    expect(r.workers['a']!.push).toEqual([6, 7, null, 9]);
    expect(r.cluster.push).toEqual([6, 7, null, 9]);
  });

  it('gives at most maxWorkers workers a series; the cluster still counts every worker', () => {
    const t = new ThroughputSeries({ resolutionMs: 1_000, points: 4, maxWorkers: 2 });
    for (const id of ['a', 'b', 'c']) t.record(id, 0, 10, 0);
    const r = t.read(1_000, ['a', 'b', 'c']);
    expect(Object.keys(r.workers)).toEqual(['a', 'b']);
    expect(r.cluster.push).toEqual([30]);
    // A dropped worker frees its place.
    t.drop('a');
    t.record('d', 1_000, 1, 0);
    expect(Object.keys(t.read(2_000, ['a', 'd']).workers)).toEqual(['d']);
  });
});
