// The dashboard in a real browser (docs/operations.md#dashboard): Debian's Chromium, driven by
// playwright-core, against a cluster of real processes. The page must list the three workers,
// show a shuffle an app holds, chart the throughput of a real job, and mark a worker lost after
// it is killed -- with no script error, no blocked resource and no request leaving the manager.
// Screenshots go to test/output/dashboard/ (UPDATE_DASHBOARD_SCREENSHOT=1, not a SLUICE_
// variable since the daemons refuse unknown ones, also refreshes
// docs/dashboard.png, the one README.md shows, from the lost-worker one).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';
import { HaProcessCluster } from '../src/testing/ha-cluster.js';
import { ProcessCluster } from '../src/testing/process-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
import { zooKeeperAvailable } from '../src/testing/zookeeper.js';
import {
  commitSkewedShuffle,
  committedSizes,
  type CommittedJob,
  type ShuffleSizesJson,
} from './committed-shuffle.js';
import { runSmallTerasort } from './small-terasort.js';

const CHROMIUM = '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const OUTPUT = join(PACKAGE_ROOT, 'test/output/dashboard');
const present = existsSync(CHROMIUM);
if (!present && process.env.CI !== 'true')
  console.warn(
    `skipping the dashboard browser test: ${CHROMIUM} is missing (apt-get install chromium)`,
  );

interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

interface Browser {
  readonly page: Page;
  /** Script errors, failed or blocked loads, and requests to an origin not allowed. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile (deleted by close()) and one page watched for problems. */
async function openChromium(allowed: (url: string) => boolean): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  try {
    // playwright passes the profile as --user-data-dir.
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1366, height: 768 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!allowed(r.url())) problems.push(`request off the cluster: ${r.url()}`);
    });
    return {
      page,
      problems,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

describe.skipIf(!present && process.env.CI !== 'true')('the dashboard in Chromium', () => {
  let cluster: ProcessCluster;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let base: string;
  let committed: CommittedJob | undefined;

  beforeAll(async () => {
    if (!present) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
    cluster = await ProcessCluster.start({
      workers: 3,
      managerConfig: { 'manager.workerLostTimeoutMs': 3_000 },
    });
    base = `http://127.0.0.1:${cluster.manager.httpPort}`;
    browser = await openChromium((url) => url.startsWith(`${base}/`));
    ({ page, problems } = browser);
    mkdirSync(OUTPUT, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await committed?.close();
    await cluster?.close();
  });

  const row = (id: string) => page.locator(`#workers tr[data-worker-id="${id}"]`);

  it('lists the workers, a held shuffle and the throughput of a real job', async () => {
    // A real job first, so the charts have data: it pushes, reads back and ends.
    const job = await runSmallTerasort(cluster.managerAddress);
    expect(job.code, job.output).toBe(0);
    // Then an app that holds a shuffle while the page looks at it.
    await cluster.client.registerApp({
      appId: 'nightly-etl',
      priority: 2,
      name: 'etl',
      user: 'ann',
    });
    await cluster.client.allocateShuffle({
      appId: 'nightly-etl',
      shuffleId: 3,
      numMappers: 20,
      numPartitions: 48,
      replicate: true,
    });
    // And one whose job committed: heartbeats bring its sizes to the manager.
    committed = await commitSkewedShuffle(cluster.managerAddress);
    const { written, perPartition } = committed;
    const sizes = await committedSizes(base, committed.appId);
    // One file per partition (no replica): the workers hold exactly what the maps wrote.
    const largest = Math.max(...perPartition);
    expect(sizes).toMatchObject({
      bytesPushed: written,
      bytesCommitted: written,
      partitionFiles: 8,
      largestPartitionBytes: largest,
      skew: largest / (written / 8),
    });
    expect(sizes.skew).toBeGreaterThan(4);
    // The job's pushes must sit in a complete bucket of the series before the page reads it.
    await waitFor(
      async () => {
        const t = (await (await fetch(`${base}/api/v1/throughput`)).json()) as {
          cluster: { push: (number | null)[] };
        };
        return t.cluster.push.some((v) => (v ?? 0) > 0);
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'pushed bytes in the throughput series' },
    );

    await page.goto(base);
    await expect.poll(() => page.locator('#workers tbody tr').count(), { timeout: 20_000 }).toBe(3);
    for (const id of ['worker-1', 'worker-2', 'worker-3'])
      expect(await row(id).getAttribute('data-state')).toBe('healthy');
    await expect
      .poll(() => page.getByRole('row', { name: /nightly-etl \/ 3/ }).count(), { timeout: 10_000 })
      .toBe(1);
    const shuffle = page.locator('#shuffles tr[data-shuffle="nightly-etl/3"] td');
    expect(await shuffle.allInnerTexts()).toEqual(expect.arrayContaining(['20', '48', 'yes']));
    const cell = (table: string, rowSel: string, field: string) =>
      page.locator(`#${table} tr[${rowSel}] td[data-field="${field}"]`);
    // Nothing pushed to it yet: its sizes are unknown, not zero.
    const etlPushed = cell('shuffles', 'data-shuffle="nightly-etl/3"', 'bytesPushed');
    expect(await etlPushed.innerText()).toBe('–');
    // The committed shuffle's row shows the figures of the API, formatted.
    const shown = (field: keyof ShuffleSizesJson) =>
      cell('shuffles', 'data-shuffle="daily-report/0"', field);
    for (const field of ['bytesPushed', 'bytesCommitted', 'largestPartitionBytes'] as const) {
      expect(Number(await shown(field).getAttribute('data-value')), field).toBe(sizes[field]);
      expect(await shown(field).innerText(), field).toMatch(/^\d+(\.\d)? (KiB|MiB)$/);
    }
    expect(Number(await shown('bytesCommitted').getAttribute('data-value'))).toBeGreaterThan(0);
    expect(await shown('partitionFiles').innerText()).toBe('8');
    expect(await shown('skew').innerText()).toBe(`${sizes.skew!.toFixed(2)}×`);
    // The apps table totals them per app.
    const appCommitted = cell('apps', 'data-app-id="daily-report"', 'bytesCommitted');
    expect(Number(await appCommitted.getAttribute('data-value'))).toBe(written);
    expect(await page.getByRole('columnheader', { name: 'Committed' }).count()).toBe(2);
    expect(await page.getByRole('columnheader', { name: 'Skew' }).getAttribute('title')).toMatch(
      /largest file \/ mean file/,
    );
    expect(await page.locator('#apps tr[data-app-id="nightly-etl"]').innerText()).toContain('etl');
    // The job's app came and went: both are in the events.
    const events = await page.locator('#events tbody').innerText();
    expect(events).toMatch(/app-registered/);
    expect(events).toMatch(/app-unregistered/);
    // uPlot drew the three charts (a canvas each) with a line per worker in the legends.
    expect(await page.locator('.charts canvas').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#chart-push .u-legend').innerText()).toContain('worker-3');
    // axe-core (evaluated over the DevTools protocol, so the page's CSP stays on) finds no
    // serious accessibility problem: names on controls, contrast, table headers, landmarks.
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: () => Promise<AxeResults> } }).axe;
      const r = await axe.run();
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    });
    expect(violations).toEqual([]);
    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 180_000);

  it('marks a worker lost after it is killed', async () => {
    // The accessible names of the controls are what a screen reader (and this test) use.
    await page.getByLabel('Refresh every').selectOption('2000');
    await cluster.worker('worker-2').stop('SIGKILL');
    await expect
      .poll(() => row('worker-2').getAttribute('data-state'), { timeout: 30_000, interval: 500 })
      .toBe('lost');
    expect(await row('worker-2').innerText()).toContain('lost');
    expect(await row('worker-1').getAttribute('data-state')).toBe('healthy');
    await expect
      .poll(() => page.locator('#events tr[data-kind="worker-lost"]').innerText(), {
        timeout: 10_000,
      })
      .toContain('worker-2');
    // Pausing stops the refresh, and says so on the button.
    const live = page.getByRole('button', { name: /live refresh/i });
    await live.click();
    expect(await live.getAttribute('aria-pressed')).toBe('false');
    await page.screenshot({ path: join(OUTPUT, 'dashboard-worker-lost.png'), fullPage: true });
    if (process.env.UPDATE_DASHBOARD_SCREENSHOT === '1')
      copyFileSync(
        join(OUTPUT, 'dashboard-worker-lost.png'),
        join(PACKAGE_ROOT, 'docs/dashboard.png'),
      );
    expect(problems).toEqual([]);
  }, 120_000);
});

// Highly available managers (docs/architecture.md#high-availability): only the leader has
// cluster state; a follower's dashboard says so and links to the leader's.
const zk = zooKeeperAvailable();
describe.skipIf((!present || !zk) && process.env.CI !== 'true')(
  'the dashboard of highly available managers',
  () => {
    let ha: HaProcessCluster;
    let browser: Browser;

    beforeAll(async () => {
      if (!present || !zk) throw new Error('CI must install chromium and zookeeper');
      ha = await HaProcessCluster.start({ managers: 2, workers: 1, zkServers: 1 });
      browser = await openChromium((url) => url.startsWith('http://127.0.0.1:'));
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await ha?.close();
    });

    it("a follower names the leader and links to the leader's dashboard", async () => {
      const leader = await ha.waitForLeader();
      const url = (i: number) => `http://127.0.0.1:${ha.managers[i]!.httpPort}/`;
      const { page, problems } = browser;
      await page.goto(url(1 - leader));
      await expect
        .poll(() => page.getByRole('alert').innerText(), { timeout: 20_000 })
        .toContain('This manager is not the leader');
      expect(await page.locator('#manager').innerText()).toMatch(/· follower · HA: 2 managers/);
      await page.getByRole('link', { name: /leader's dashboard/ }).click();
      await expect
        .poll(() => page.locator('#workers tr[data-worker-id="worker-1"]').count(), {
          timeout: 20_000,
        })
        .toBe(1);
      expect(page.url()).toBe(url(leader));
      expect(await page.locator('#manager').innerText()).toMatch(/· leader · HA: 2 managers/);
      expect(await page.getByRole('alert').isHidden()).toBe(true);
      expect(problems).toEqual([]);
    }, 120_000);
  },
);
