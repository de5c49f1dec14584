// Summarises a .cpuprofile (V8 sampling profile, e.g. from `npm run bench:ingest --
// --worker-cpu-prof DIR` or `node --cpu-prof`): where the process spent its time, by self
// time per function and by inclusive time per function, as shares of the profiled wall time.
//
//   node bench/cpuprofile-top.mjs <file.cpuprofile> [--top 25] [--from S] [--to S] [--timeline]
//
// --from/--to keep the samples between those seconds after the profile started (one phase of
// a run); --timeline prints the busy share of each second first, to find the phases.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from './lib/report.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    from: { type: 'string', default: '0' },
    to: { type: 'string', default: 'Infinity' },
    timeline: { type: 'boolean', default: false },
  },
});
const top = Number(values.top);
const from = Number(values.from) * 1e6;
const to = Number(values.to) * 1e6;
if (positionals.length !== 1 || !(top > 0) || !(from >= 0) || !(to > from)) {
  console.error(
    'usage: node bench/cpuprofile-top.mjs <file.cpuprofile> [--top N] [--from S] [--to S] [--timeline]',
  );
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n) => {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${name} ${file.startsWith('node:') ? file : basename(file)}:${f.lineNumber + 1}`;
};

// Each sample's time is the delta to the next sample (V8's convention: timeDeltas[i] precedes
// samples[i], so the time of sample i is timeDeltas[i + 1]).
const self = new Map();
const inclusive = new Map();
const busyPerSecond = [];
let total = 0;
let at = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  at += profile.timeDeltas[i] ?? 0;
  const leaf = byId.get(profile.samples[i]);
  if (label(leaf) !== '(idle)') {
    const second = Math.floor(at / 1e6);
    busyPerSecond[second] = (busyPerSecond[second] ?? 0) + dt;
  }
  if (at < from || at >= to) continue;
  total += dt;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
  const seen = new Set();
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id));
    if (seen.has(l)) continue; // recursion counts once per sample
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
}

// "busy" leaves out (idle), the time the thread waited in epoll: for a saturated event loop
// it is the share that matters.
const busy = total - (self.get('(idle)') ?? 0);
const share = (us, of) => `${((us / of) * 100).toFixed(1)}%`;
const rows = (m) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([l, us]) => [
      l,
      (us / 1000).toFixed(0),
      share(us, total),
      l === '(idle)' || l === '(root)' ? '-' : share(us, busy),
    ]);

const HEADER = ['function', 'ms', 'of total', 'of busy'];
if (values.timeline) {
  console.log('busy share per second since the profile started:');
  const line = Array.from(busyPerSecond, (us, s) => `${s}:${Math.round((us ?? 0) / 1e4)}%`);
  for (let i = 0; i < line.length; i += 15) console.log(`  ${line.slice(i, i + 15).join(' ')}`);
  console.log();
}
console.log(
  `${positionals[0]}: ${(total / 1e6).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy\n`,
);
console.log('Self time');
console.log(formatTable(HEADER, rows(self)));
console.log('\nInclusive time');
console.log(formatTable(HEADER, rows(inclusive)));
