// `npm run chaos`: every fault scenario N times (SLUICE_CHAOS_RUNS or --runs, default 20;
// --only <text> keeps the scenarios whose name contains it), outside vitest. Progress and
// failure details go to stderr; the table goes to stdout: scenario, runs, bytes verified,
// data loss, wrong bytes, unexpected errors. Exit code 1 on any data loss or wrong byte, 2
// when the only failures are unexpected errors, 0 otherwise.
import { parseArgs } from 'node:util';
import { DataLossError, FAST_SHAPE, WrongBytesError, type Scenario } from './harness.js';
import { SCENARIOS } from './scenarios/index.js';

interface Row {
  scenario: string;
  runs: number;
  bytes: number;
  loss: number;
  wrong: number;
  unexpected: number;
  skipped?: string;
}

const { values } = parseArgs({
  options: { runs: { type: 'string' }, only: { type: 'string' } },
});
const runs = Number(values.runs ?? process.env.SLUICE_CHAOS_RUNS ?? 20);
// The daemons this spawns refuse unknown SLUICE_* variables (they are configuration).
delete process.env.SLUICE_CHAOS_RUNS;
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs / SLUICE_CHAOS_RUNS must be a positive integer, got ${runs}`);
  process.exit(2);
}
const selected = SCENARIOS.filter((s) => !values.only || s.name.includes(values.only));

async function runScenario(s: Scenario): Promise<Row> {
  const row: Row = { scenario: s.name, runs: 0, bytes: 0, loss: 0, wrong: 0, unexpected: 0 };
  const skipped = s.skipReason?.();
  if (skipped) return { ...row, skipped };
  for (let i = 1; i <= runs; i++) {
    const started = Date.now();
    let outcome: string;
    try {
      const r = await s.run(FAST_SHAPE);
      row.bytes += r.bytesVerified;
      const measures = r.measures ? ` ${JSON.stringify(r.measures)}` : '';
      outcome = `ok, ${r.bytesVerified} bytes verified${measures}`;
    } catch (err) {
      if (err instanceof WrongBytesError) row.wrong++;
      else if (err instanceof DataLossError) row.loss++;
      else row.unexpected++;
      outcome = `FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    }
    row.runs++;
    console.error(`[${s.name}] run ${i}/${runs} (${Date.now() - started} ms): ${outcome}`);
  }
  return row;
}

function table(rows: readonly Row[]): string {
  const head = [
    'scenario',
    'runs',
    'bytes verified',
    'data loss',
    'wrong bytes',
    'unexpected errors',
  ];
  const body = rows.map((r) =>
    r.skipped
      ? [r.scenario, 'skipped', r.skipped, '', '', '']
      : [r.scenario, r.runs, r.bytes, r.loss, r.wrong, r.unexpected].map(String),
  );
  const total = rows.reduce(
    (t, r) => ({
      runs: t.runs + r.runs,
      bytes: t.bytes + r.bytes,
      loss: t.loss + r.loss,
      wrong: t.wrong + r.wrong,
      unexpected: t.unexpected + r.unexpected,
    }),
    { runs: 0, bytes: 0, loss: 0, wrong: 0, unexpected: 0 },
  );
  body.push([
    'total',
    ...[total.runs, total.bytes, total.loss, total.wrong, total.unexpected].map(String),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

const rows: Row[] = [];
const started = Date.now();
for (const s of selected) rows.push(await runScenario(s));
console.log(
  `\nSluice chaos: ${runs} run(s) per scenario, ${Math.round((Date.now() - started) / 1000)} s\n`,
);
console.log(table(rows));
const lossOrWrong = rows.some((r) => r.loss > 0 || r.wrong > 0);
const unexpected = rows.some((r) => r.unexpected > 0);
process.exitCode = lossOrWrong ? 1 : unexpected ? 2 : 0;
