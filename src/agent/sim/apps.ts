// Terasort and PageRank-like applications (docs/architecture.md#allocation-agent, Dexter §5.3 and §6.4).
import { Rng } from './rng.js';
import type { AppSpec, StageSpec } from './workload.js';

const GB = 1e9;
const MB = 1e6;
const SPLIT_BYTES = 128 * 1024 * 1024;

/**
 * Terasort: a sampling job (range partitioner), a map stage that reads and pushes everything,
 * and a reduce stage that sorts each range. Shuffle volume equals the input.
 */
export function terasort(inputGb: number, seed = 1): AppSpec {
  const rng = Rng.derive(seed, `terasort:${inputGb}`);
  const input = inputGb * GB;
  const maps = Math.ceil(input / SPLIT_BYTES);
  const reduces = Math.min(1000, maps);
  const stages: StageSpec[] = [
    {
      id: 0,
      name: 'sample',
      parents: [],
      tasks: Math.min(maps, 20),
      taskSeconds: 0.6,
      skew: 1,
      contention: 0.02,
      inputBytes: input / 100,
      shuffleReadBytes: 0,
      shuffleWriteBytes: 0,
    },
    {
      id: 1,
      name: 'map',
      parents: [0],
      tasks: maps,
      taskSeconds: 1.6 * rng.uniform(0.9, 1.1),
      skew: 1.1,
      contention: 0.035 * rng.uniform(0.9, 1.1),
      inputBytes: input,
      shuffleReadBytes: 0,
      shuffleWriteBytes: input,
    },
    {
      id: 2,
      name: 'sort',
      parents: [1],
      tasks: reduces,
      taskSeconds: (0.3 + input / reduces / (60 * MB)) * rng.uniform(0.9, 1.1),
      skew: 1.3,
      contention: 0.06 * rng.uniform(0.9, 1.1),
      inputBytes: 0,
      shuffleReadBytes: input,
      shuffleWriteBytes: 0,
    },
  ];
  return { name: `terasort-${inputGb}g`, stages };
}

/**
 * PageRank on a graph of `nodesK` thousand pages: load the links, then per iteration a join
 * of links with ranks and a reduceByKey — one network-heavy shuffle stage per iteration.
 */
export function pagerank(nodesK: number, iterations = 10, seed = 1): AppSpec {
  const rng = Rng.derive(seed, `pagerank:${nodesK}`);
  const edgesM = 0.5 + nodesK / 50; // Dexter §5.3: 10K → 0.7M, 40K → 1.3M edges
  const linkBytes = edgesM * 1e6 * 40;
  const tasks = 64;
  const stages: StageSpec[] = [
    {
      id: 0,
      name: 'load links',
      parents: [],
      tasks: 16,
      taskSeconds: 1.5,
      skew: 1.2,
      contention: 0.03,
      inputBytes: linkBytes,
      shuffleReadBytes: 0,
      shuffleWriteBytes: linkBytes,
    },
  ];
  for (let i = 1; i <= iterations; i++) {
    stages.push({
      id: i,
      name: `iteration ${i}`,
      parents: [i - 1],
      tasks,
      taskSeconds: (0.4 + (edgesM * 0.9) / tasks) * rng.uniform(0.9, 1.1),
      skew: 2,
      contention: 0.09 * rng.uniform(0.85, 1.15),
      inputBytes: 0,
      shuffleReadBytes: linkBytes,
      shuffleWriteBytes: i === iterations ? 0 : linkBytes,
    });
  }
  return { name: `pagerank-${nodesK}k`, stages };
}
