// TPC-H-like applications (docs/architecture.md#allocation-agent): the 22 queries' stage DAGs at scale factor 100, as
// Spark SQL 3.3 runs them. Scans read the needed columns of a table in 128 MiB splits; small
// dimension tables (nation, region, supplier) are broadcast and add no stage; every shuffle
// join and aggregation is a stage whose partitions adaptive query execution coalesces to
// ~64 MiB (at most spark.sql.shuffle.partitions = 200); the result is collected by a one-task
// stage. Query shapes follow the TPC-H specification's join graphs; sizes are approximate.
import { Rng } from './rng.js';
import type { AppSpec, StageSpec } from './workload.js';

const GB = 1e9;
const MB = 1e6;
const SPLIT_BYTES = 128 * 1024 * 1024;
const COALESCE_BYTES = 64 * 1024 * 1024;
const SHUFFLE_PARTITIONS = 200;
/** A 128 MiB split with filter/projection: ~2.2 s on one core (Dexter Fig. 2c: p90 3.1 s). */
const SCAN_SECONDS_PER_SPLIT = 2.2;
/** Shuffle read + hash join/aggregate rate of one task. */
const SHUFFLE_BYTES_PER_SEC = 40 * MB;
const SHUFFLE_TASK_OVERHEAD_SECONDS = 0.3;
/** Contention per extra executor; a shuffle stage's grows with the streams it merges. */
const SCAN_CONTENTION = 0.08;
const SHUFFLE_CONTENTION = 0.09;
const SHUFFLE_CONTENTION_PER_PARENT = 0.02;

export const TPCH_TABLE_BYTES: Readonly<Record<string, number>> = {
  lineitem: 75 * GB,
  orders: 17 * GB,
  partsupp: 12 * GB,
  part: 2.4 * GB,
  customer: 2.4 * GB,
};

type Node =
  | readonly ['scan', table: string, columnFraction: number, selectivity: number]
  | readonly ['join', inputs: readonly Node[], selectivity: number]
  | readonly ['agg', input: Node, selectivity: number];

const L = (c: number, s: number): Node => ['scan', 'lineitem', c, s];
const O = (c: number, s: number): Node => ['scan', 'orders', c, s];
const PS = (c: number, s: number): Node => ['scan', 'partsupp', c, s];
const P = (c: number, s: number): Node => ['scan', 'part', c, s];
const C = (c: number, s: number): Node => ['scan', 'customer', c, s];
const join = (inputs: Node[], s: number): Node => ['join', inputs, s];
const agg = (input: Node, s = 0.01): Node => ['agg', input, s];

export const TPCH_QUERIES: Readonly<Record<string, Node>> = {
  q1: agg(L(0.45, 1e-5)),
  q2: agg(join([P(0.3, 0.01), PS(0.5, 1), agg(PS(0.5, 1), 0.3)], 0.05)),
  q3: agg(join([C(0.2, 0.2), O(0.4, 0.5), L(0.35, 0.5)], 0.05)),
  q4: agg(join([O(0.3, 0.04), L(0.3, 0.6)], 0.02)),
  q5: agg(join([C(0.2, 1), O(0.4, 0.15), L(0.35, 1)], 0.1)),
  q6: agg(L(0.4, 1e-5)),
  q7: agg(join([O(0.3, 1), L(0.35, 0.3), C(0.2, 1)], 0.05)),
  q8: agg(join([P(0.3, 0.007), L(0.35, 1), O(0.35, 0.3), C(0.2, 1)], 0.05)),
  q9: agg(join([P(0.3, 0.05), PS(0.5, 1), L(0.45, 1), O(0.3, 1)], 0.5)),
  q10: agg(join([C(0.4, 1), O(0.3, 0.04), L(0.35, 0.25)], 0.2)),
  q11: join([agg(PS(0.5, 0.04), 0.5), agg(PS(0.5, 0.04), 1e-4)], 0.5),
  q12: agg(join([O(0.3, 1), L(0.4, 0.01)], 0.5)),
  q13: agg(agg(join([C(0.3, 1), O(0.4, 0.95)], 1), 0.02)),
  q14: agg(join([L(0.35, 0.012), P(0.3, 1)], 0.5)),
  q15: join([agg(L(0.35, 0.04), 0.1), agg(agg(L(0.35, 0.04), 0.1), 1e-4)], 0.1),
  q16: agg(join([PS(0.5, 1), P(0.3, 0.3)], 0.5), 0.3),
  q17: join([join([L(0.35, 1), P(0.3, 0.001)], 0.01), agg(L(0.35, 1), 0.05)], 0.01),
  q18: agg(join([C(0.2, 1), O(0.4, 1), L(0.35, 1), agg(L(0.35, 1), 1e-4)], 0.01)),
  q19: agg(join([L(0.4, 0.02), P(0.3, 0.01)], 0.1)),
  q20: join([agg(join([L(0.35, 0.15), PS(0.5, 1)], 0.1), 0.5), P(0.3, 0.01)], 0.1),
  q21: agg(join([L(0.45, 0.5), L(0.45, 1), O(0.3, 0.5), L(0.45, 0.5)], 0.05)),
  q22: agg(join([C(0.3, 0.3), agg(C(0.3, 0.3), 1e-4), O(0.2, 1)], 0.1)),
};

interface Built {
  readonly id: number;
  readonly writeBytes: number;
}

class Builder {
  readonly stages: StageSpec[] = [];
  readonly #rng: Rng;

  constructor(seed: number, name: string) {
    this.#rng = Rng.derive(seed, `tpch:${name}`);
  }

  #jitter(): number {
    return this.#rng.uniform(0.8, 1.25);
  }

  scan(table: string, columnFraction: number, selectivity: number): Built {
    const input = TPCH_TABLE_BYTES[table]! * columnFraction;
    const tasks = Math.ceil(input / SPLIT_BYTES);
    return this.#add({
      name: `scan ${table}`,
      parents: [],
      tasks,
      taskSeconds: SCAN_SECONDS_PER_SPLIT * (input / tasks / SPLIT_BYTES) * this.#jitter(),
      skew: this.#rng.uniform(1, 1.3),
      contention: SCAN_CONTENTION * this.#jitter(),
      inputBytes: input,
      shuffleReadBytes: 0,
      shuffleWriteBytes: input * selectivity,
    });
  }

  shuffleStage(name: string, parents: readonly Built[], selectivity: number): Built {
    const read = parents.reduce((n, p) => n + p.writeBytes, 0);
    const tasks = Math.min(SHUFFLE_PARTITIONS, Math.max(1, Math.ceil(read / COALESCE_BYTES)));
    const perTask = read / tasks;
    const contention =
      (SHUFFLE_CONTENTION + SHUFFLE_CONTENTION_PER_PARENT * (parents.length - 1)) * this.#jitter();
    return this.#add({
      name,
      parents: parents.map((p) => p.id),
      tasks,
      taskSeconds:
        (SHUFFLE_TASK_OVERHEAD_SECONDS + perTask / SHUFFLE_BYTES_PER_SEC) * this.#jitter(),
      skew: this.#rng.uniform(1.2, 3),
      contention,
      inputBytes: 0,
      shuffleReadBytes: read,
      shuffleWriteBytes: read * selectivity,
    });
  }

  build(node: Node): Built {
    switch (node[0]) {
      case 'scan':
        return this.scan(node[1], node[2], node[3]);
      case 'agg':
        return this.shuffleStage('aggregate', [this.build(node[1])], node[2]);
      case 'join': {
        const inputs = node[1].map((n) => this.build(n));
        let acc = inputs[0]!;
        for (const next of inputs.slice(1)) acc = this.shuffleStage('join', [acc, next], node[2]);
        return acc;
      }
    }
  }

  #add(s: Omit<StageSpec, 'id'>): Built {
    const id = this.stages.length;
    this.stages.push({ id, ...s });
    return { id, writeBytes: s.shuffleWriteBytes };
  }
}

export function tpchQuery(name: string, seed = 1): AppSpec {
  const root = TPCH_QUERIES[name];
  if (!root) throw new Error(`unknown TPC-H query ${name}`);
  const b = new Builder(seed, name);
  const top = b.build(root);
  // The result goes to the driver: one task, no shuffle output.
  const last = b.shuffleStage('collect', [top], 0);
  b.stages[last.id] = { ...b.stages[last.id]!, tasks: 1, taskSeconds: 0.5 };
  return { name: `tpch-${name}`, stages: b.stages };
}

export function tpchSuite(seed = 1, queries = Object.keys(TPCH_QUERIES)): AppSpec[] {
  return queries.map((q) => tpchQuery(q, seed));
}
