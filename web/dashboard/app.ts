// The Sluice dashboard (docs/operations.md#dashboard): reads the manager's /api/v1 every few
// seconds and redraws the summary, charts and tables. No framework: a few tables and three
// uPlot charts.
import './style.css';
import {
  ApiError,
  get,
  type App,
  type ClusterView,
  type ManagerEvent,
  type Member,
  type Shuffle,
  type Throughput,
  type Worker,
} from './api.js';
import { LineChart, xs } from './charts.js';
import { ago, bytes, clock, fillTable, h, rate } from './format.js';

/** Workers with a line of their own in the per-worker charts (the API takes up to 50). */
const CHART_WORKERS = 12;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Snapshot {
  cluster: ClusterView;
  workers: { workers: Worker[]; nextPageToken: string };
  apps: { apps: App[]; nextPageToken: string };
  shuffles: { shuffles: Shuffle[]; nextPageToken: string };
  events: { events: ManagerEvent[]; nextPageToken: string };
  throughput: Throughput;
}

const charts = {
  cluster: new LineChart($('chart-cluster')),
  push: new LineChart($('chart-push')),
  fetch: new LineChart($('chart-fetch')),
};

const badge = (cls: string, text: string) => h('span', { class: `badge ${cls}` }, text);
const num = (v: string | number) => h('td', { class: 'num' }, v);
/** A size that may be unknown: formatted, the exact figure in data-value. */
const size = (field: string, v: number | null, format: (n: number) => string = bytes) =>
  v === null
    ? h('td', { class: 'num', 'data-field': field }, '–')
    : h('td', { class: 'num', 'data-field': field, 'data-value': String(v) }, format(v));
/** Under a table: says that the manager has more entries than its first page. */
function more(id: string, token: string): void {
  $(id).hidden = token === '';
}

function renderManager(c: ClusterView): void {
  const leader = c.leader ? `leader ${c.leader.grpc}` : 'no leader known';
  const ha = c.ha ? `HA: ${c.members.length} managers, ${leader}` : 'single manager';
  $('manager').textContent = `Manager ${c.self.grpc} · ${c.role} · ${ha}`;
}

function renderSummary(s: Snapshot): void {
  const ws = s.workers.workers;
  const count = (state: Worker['state']) => ws.filter((w) => w.state === state).length;
  const live = ws.filter((w) => w.state !== 'lost');
  const sum = (f: (w: Worker) => number) => live.reduce((n, w) => n + f(w), 0);
  const tiles: [string, string][] = [
    ['Healthy workers', String(count('healthy'))],
    ['Lost workers', String(count('lost'))],
    ['Decommissioning', String(count('decommissioning'))],
    ['Apps', String(s.apps.apps.length)],
    ['Shuffles', String(s.shuffles.shuffles.length)],
    ['Push', rate(sum((w) => w.pushBytesPerSec))],
    ['Fetch', rate(sum((w) => w.fetchBytesPerSec))],
    [
      'Memory used',
      `${bytes(sum((w) => w.memoryUsedBytes))} of ${bytes(sum((w) => w.memoryBudgetBytes))}`,
    ],
  ];
  $('summary').replaceChildren(
    ...tiles.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

function storageList(w: Worker): HTMLElement {
  return h(
    'ul',
    {},
    w.disks.map((d) => {
      const state = d.state ?? (d.healthy ? 'healthy' : 'failing');
      const room =
        d.capacityBytes > 0
          ? `${bytes(d.freeBytes)} free of ${bytes(d.capacityBytes)}`
          : 'capacity not reported';
      return h(
        'li',
        {},
        `${d.kind ?? 'disk'} ${d.path} `,
        badge(`disk-${state}`, state),
        ` ${room}`,
      );
    }),
  );
}

function renderWorkers(ws: Worker[]): void {
  const now = Date.now();
  const rows = ws.map((w) =>
    h(
      'tr',
      { 'data-worker-id': w.workerId, 'data-state': w.state },
      h(
        'th',
        { scope: 'row' },
        w.workerId,
        h('div', { class: 'muted' }, `${w.host}:${w.dataPort}`),
      ),
      h('td', {}, badge(`state-${w.state}`, w.state)),
      h('td', {}, badge(`serving-${w.servingState}`, w.servingState)),
      h(
        'td',
        {},
        h('meter', {
          min: '0',
          max: String(Math.max(1, w.memoryBudgetBytes)),
          value: String(w.memoryUsedBytes),
          'aria-label': `memory of ${w.workerId}`,
        }),
        ` ${bytes(w.memoryUsedBytes)} / ${bytes(w.memoryBudgetBytes)}`,
      ),
      // A lost worker's last-minute means are stale: it moves nothing now.
      num(w.state === 'lost' ? '–' : rate(w.pushBytesPerSec)),
      num(w.state === 'lost' ? '–' : rate(w.fetchBytesPerSec)),
      num(bytes(w.flushQueueBytes)),
      num(w.activeShuffles),
      h('td', { class: 'storage' }, storageList(w)),
      h('td', {}, w.throttledApps.join(', ') || '–'),
      h('td', {}, ago(w.lastHeartbeat, now)),
    ),
  );
  const head = [
    'Worker',
    'State',
    'Serving',
    'Memory used / budget',
    { num: 'Push' },
    { num: 'Fetch' },
    { num: 'Flush queue' },
    { num: 'Shuffles' },
    'Storage',
    'Throttled apps',
    'Last heartbeat',
  ];
  fillTable($('workers'), head, rows, 'No worker has registered.');
}

function renderApps(apps: App[]): void {
  const now = Date.now();
  const rows = apps.map((a) =>
    h(
      'tr',
      { 'data-app-id': a.appId },
      h('th', { scope: 'row' }, a.appId),
      h('td', {}, a.name || '–'),
      h('td', {}, a.user || '–'),
      num(a.priority),
      num(a.shuffles),
      num(a.partitions),
      num(a.groups),
      size('bytesPushed', a.bytesPushed),
      size('bytesCommitted', a.bytesCommitted),
      h(
        'td',
        {},
        a.throttledBy.length
          ? badge('state-decommissioning', `by ${a.throttledBy.join(', ')}`)
          : '–',
      ),
      h('td', {}, ago(a.registeredAt, now)),
      h('td', {}, ago(a.lastHeartbeat, now)),
    ),
  );
  const head = [
    'App',
    'Name',
    'User',
    { num: 'Priority' },
    { num: 'Shuffles' },
    { num: 'Partitions' },
    { num: 'Groups' },
    { num: 'Pushed', title: 'Bytes pushed to its shuffles' },
    { num: 'Committed', title: 'Bytes in the committed files of its shuffles' },
    'Throttled',
    'Registered',
    'Last heartbeat',
  ];
  fillTable($('apps'), head, rows, 'No app is registered.');
  const filter = $<HTMLSelectElement>('app-filter');
  const chosen = filter.value;
  filter.replaceChildren(
    h('option', { value: '' }, 'every app'),
    ...apps.map((a) => h('option', { value: a.appId }, a.appId)),
  );
  filter.value = apps.some((a) => a.appId === chosen) ? chosen : '';
}

function renderShuffles(shuffles: Shuffle[]): void {
  const app = $<HTMLSelectElement>('app-filter').value;
  const rows = shuffles
    .filter((s) => app === '' || s.appId === app)
    .map((s) =>
      h(
        'tr',
        { 'data-shuffle': `${s.appId}/${s.shuffleId}` },
        h('th', { scope: 'row' }, `${s.appId} / ${s.shuffleId}`),
        num(s.numMappers),
        num(s.numPartitions),
        num(s.groups),
        h('td', {}, s.replicate ? 'yes' : 'no'),
        h('td', {}, s.workers.join(', ')),
        num(s.maxEpoch),
        size('bytesPushed', s.bytesPushed),
        size('bytesCommitted', s.bytesCommitted),
        size('partitionFiles', s.partitionFiles, String),
        size('largestPartitionBytes', s.largestPartitionBytes),
        size('skew', s.skew, (x) => `${x.toFixed(2)}×`),
        h('td', {}, clock(s.createdAt)),
      ),
    );
  const head = [
    'Shuffle',
    { num: 'Mappers' },
    { num: 'Partitions' },
    { num: 'Groups' },
    'Replicated',
    'Workers',
    { num: 'Highest epoch' },
    { num: 'Pushed', title: 'Bytes the workers accepted (replica copies included)' },
    { num: 'Committed', title: 'Bytes in committed partition files' },
    { num: 'Files', title: 'Committed partition files' },
    { num: 'Largest file', title: 'The largest committed partition file' },
    { num: 'Skew', title: 'Partition-size skew: largest file / mean file' },
    'Allocated',
  ];
  fillTable($('shuffles'), head, rows, 'No shuffle is allocated.');
}

function renderEvents(events: ManagerEvent[]): void {
  const rows = events.map((e) =>
    h(
      'tr',
      { 'data-kind': e.kind },
      h('td', {}, clock(e.at)),
      h(
        'td',
        {},
        badge(e.kind.endsWith('lost') || e.kind.endsWith('refused') ? 'state-lost' : '', e.kind),
      ),
      h('td', {}, e.message),
    ),
  );
  fillTable($('events'), ['Time', 'Event', 'What happened'], rows, 'No events yet.');
}

function renderCharts(t: Throughput, workerIds: string[]): void {
  const x = xs(t);
  charts.cluster.set(['push', 'fetch'], [x, t.cluster.push, t.cluster.fetch]);
  const ids = workerIds.filter((id) => t.workers[id]);
  charts.push.set(ids, [x, ...ids.map((id) => t.workers[id]!.push)]);
  charts.fetch.set(ids, [x, ...ids.map((id) => t.workers[id]!.fetch)]);
}

async function load(): Promise<Snapshot> {
  const cluster = await get<ClusterView>('/api/v1/cluster');
  renderManager(cluster);
  // Only the leader has cluster state; a follower's page points at the leader's.
  if (cluster.role !== 'leader') throw new NotLeading(cluster.leader);
  const workers = await get<Snapshot['workers']>('/api/v1/workers');
  const chartIds = workers.workers.slice(0, CHART_WORKERS).map((w) => w.workerId);
  const query = chartIds.map((id) => `workerId=${encodeURIComponent(id)}`).join('&');
  const eventCount = $<HTMLSelectElement>('event-count').value;
  const [apps, shuffles, events, throughput] = await Promise.all([
    get<Snapshot['apps']>('/api/v1/apps'),
    get<Snapshot['shuffles']>('/api/v1/shuffles'),
    get<Snapshot['events']>(`/api/v1/events?pageSize=${eventCount}`),
    get<Throughput>(`/api/v1/throughput?${query}`),
  ]);
  return { cluster, workers, apps, shuffles, events, throughput };
}

let last: Snapshot | undefined;

function render(s: Snapshot): void {
  renderSummary(s);
  renderWorkers(s.workers.workers);
  more('workers-more', s.workers.nextPageToken);
  renderApps(s.apps.apps);
  more('apps-more', s.apps.nextPageToken);
  renderShuffles(s.shuffles.shuffles);
  more('shuffles-more', s.shuffles.nextPageToken);
  renderEvents(s.events.events);
  renderCharts(
    s.throughput,
    s.workers.workers.slice(0, CHART_WORKERS).map((w) => w.workerId),
  );
}

class NotLeading extends Error {
  constructor(readonly leader: Member | null) {
    super('this manager is not the leader');
  }
}

function showError(err: unknown): void {
  const box = $('error');
  box.hidden = false;
  if (err instanceof NotLeading) {
    const leader = err.leader;
    box.replaceChildren(
      'This manager is not the leader, so it has no cluster state to show. ',
      leader
        ? h('a', { href: `http://${leader.http}/` }, `Open the leader's dashboard (${leader.http})`)
        : 'No leader is elected yet; retrying.',
    );
    return;
  }
  const what = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
  box.textContent = `Could not read the manager's API (${what}). Retrying.`;
}

async function refresh(): Promise<void> {
  try {
    last = await load();
    $('error').hidden = true;
    render(last);
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    showError(err);
  }
}

let timer: number | undefined;

function schedule(): void {
  window.clearTimeout(timer);
  if ($('live').getAttribute('aria-pressed') !== 'true') return;
  timer = window.setTimeout(
    () => {
      void refresh().finally(schedule);
    },
    Number($<HTMLSelectElement>('interval').value),
  );
}

$('live').addEventListener('click', () => {
  const on = $('live').getAttribute('aria-pressed') !== 'true';
  $('live').setAttribute('aria-pressed', String(on));
  $('live').textContent = on ? 'Live refresh on' : 'Live refresh paused';
  if (on) void refresh();
  schedule();
});
$('interval').addEventListener('change', schedule);
$('app-filter').addEventListener('change', () => last && renderShuffles(last.shuffles.shuffles));
$('event-count').addEventListener('change', () => void refresh());

void refresh().finally(schedule);
