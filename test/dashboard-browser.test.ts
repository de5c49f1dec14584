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
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/testing/manager.js';
import { ProcessCluster } from '../src/testing/process-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
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

describe.skipIf(!present && process.env.CI !== 'true')('the dashboard in Chromium', () => {
  let cluster: ProcessCluster;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  let base: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!present) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium`);
    cluster = await ProcessCluster.start({
      workers: 3,
      managerConfig: { 'manager.workerLostTimeoutMs': 3_000 },
    });
    base = `http://127.0.0.1:${cluster.manager.httpPort}`;
    profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
    // A fresh profile (playwright passes it as --user-data-dir), deleted afterwards.
    browser = await chromium.launchPersistentContext(profile, {
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
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(`${base}/`)) problems.push(`request off the manager: ${r.url()}`);
    });
    mkdirSync(OUTPUT, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
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
