/**
 * The dashboard as a user sees it: `clusterkit run` and `clusterkit dashboard` as real
 * processes, the page in a real headless Chromium. Skipped, with the reason, only where no
 * Chromium can start (`.ci/run` installs it).
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from '../cli/cli-process.js';
import { ClusterPrimary } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';
import { onCleanup } from '../helpers/cleanup.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { chromiumPath, kReboundHost, launchChromium, tryChromium, type LaunchedBrowser } from './browser.js';

// Started once here: if it cannot start, the tests are skipped and say why.
const probe = await tryChromium();
const skipReason = typeof probe === 'string' ? probe : undefined;
if (skipReason) process.stderr.write(`\nSKIPPED: the dashboard browser tests: ${skipReason}\n\n`);
/** The browser of the running test; closed after each test, whatever happened. */
let browser: LaunchedBrowser | undefined = typeof probe === 'string' ? undefined : probe;
const servers: http.Server[] = [];

async function releaseAll(): Promise<void> {
  await browser?.close();
  browser = undefined;
  for (const server of servers.splice(0)) server.closeAllConnections(), server.close();
  killSpawned();
  cleanUpCli();
}
afterEach(releaseAll);
afterAll(releaseAll);

/** A cluster of `workers` demo servers, and its dashboard with control on; resolves with the URL. */
async function startClusterAndDashboard(name: string, workers: number) {
  const runtime = runtimeDir();
  const run = startCli(['run', 'examples/demo/server.js', '-w', String(workers), '--name', name], { runtime, env: { PORT: String(await freePort()) } });
  await run.waitFor(new RegExp(`service ${name} started: ${workers} worker`));
  const dashboard = startCli(['dashboard', name, '--port', '0', '--allow-control'], { runtime });
  const [, url] = await dashboard.waitFor(new RegExp(`dashboard for cluster ${name}: (http://\\S+)`));
  return { runtime, run, dashboard, url: url!, port: Number(new URL(url!).port), token: new URL(url!).searchParams.get('token')! };
}

async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  browser ??= await launchChromium(chromiumPath()!);
  const page = await browser.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
  await page.goto(url);
  return { page, errors };
}

const timelineEntry = (page: Page, type: string, text?: string) => page.locator(`#timeline li[data-type="${type}"]`, text === undefined ? {} : { hasText: text });

(skipReason ? describe.skip : describe)('dashboard in a browser', () => {
  it('draws live charts, shows a SIGKILL as an exit and a restart and a reload in the timeline, within seconds', async () => {
    const { run, url } = await startClusterAndDashboard('dash', 2);
    const { page, errors } = await openPage(url);
    // Every chart holds points for both workers.
    await page.waitForFunction(chartsHold, 4, { timeout: 30_000 });
    expect(await page.locator('[data-chart]').count()).toBe(6);
    expect(await page.locator('#worker-rows tr').count()).toBe(2);
    expect(await page.textContent('#fig-ready')).toBe('2 / 2');
    expect(await page.textContent('#cluster-state')).toBe('running');
    // A plain script has no store: its figure stays hidden.
    expect(await page.isHidden('#fig-store-box')).toBe(true);
    // The Scale field's ceiling is the cluster's --max-workers, not a fixed 1024.
    const maxWorkers = await page.evaluate(async () => ((await (await fetch('/api/snapshot')).json()) as { status: { maxWorkers: number } }).status.maxWorkers);
    expect(Number.isSafeInteger(maxWorkers)).toBe(true);
    expect(await page.getAttribute('#scale-input', 'max')).toBe(String(Math.min(maxWorkers, 1024)));

    const [victim] = readyPids(run);
    process.kill(victim!, 'SIGKILL');
    await timelineEntry(page, 'workerExit', `pid ${victim}`).filter({ hasText: 'killed by SIGKILL' }).waitFor({ timeout: 30_000 });
    await timelineEntry(page, 'workerRestart', 'backoff').waitFor({ timeout: 30_000 });

    await page.click('#reload-button');
    await timelineEntry(page, 'reload', 'rolling reload started: 2 workers').waitFor({ timeout: 60_000 });
    await timelineEntry(page, 'reloadComplete', '2 workers replaced').waitFor({ timeout: 60_000 });
    await page.locator('#control-result', { hasText: '2 workers replaced, no request cut off' }).waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    // Upper bounds for a loaded machine (the under-load run on 8337621 waited out 20 s for the reload's end).
  }, 300_000);

  it('refuses control without the token (403), and requests from another site or a rebound DNS name', async () => {
    const { runtime, port, token, url } = await startClusterAndDashboard('guarded', 1);
    const pidsBefore = await workerPids(runtime);
    const { page } = await openPage(url);
    // The dashboard's own origin, without the token.
    expect(await page.evaluate(async () => (await fetch('/api/reload', { method: 'POST', body: '{}' })).status)).toBe(403);

    // A page of another site that knows the token: the preflight of its request is refused,
    // a no-cors request cannot carry the token (and its answer is withheld from the page by
    // Cross-Origin-Resource-Policy), and reading the figures is refused.
    const evil = http.createServer((_, response) => response.end('<!doctype html><title>elsewhere</title>'));
    servers.push(evil);
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    const attempts = await page.evaluate(
      async ({ target, secret }) => {
        const outcome = (promise: Promise<Response>) => promise.then((response) => `answered ${response.status}`, () => 'blocked');
        return {
          cors: await outcome(fetch(`${target}/api/reload`, { method: 'POST', headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' }, body: '{}' })),
          simple: await outcome(fetch(`${target}/api/reload?token=${secret}`, { method: 'POST', mode: 'no-cors', body: '{}' })),
          read: await outcome(fetch(`${target}/api/snapshot`)),
        };
      },
      { target: `http://127.0.0.1:${port}`, secret: token },
    );
    expect(attempts).toEqual({ cors: 'blocked', simple: 'blocked', read: 'blocked' });

    // DNS rebinding: a name of the attacker's that resolves to 127.0.0.1 reaches the port,
    // but the dashboard refuses the Host, so the page (and its data) never loads.
    const rebound = await page.goto(`http://${kReboundHost}:${port}/`);
    expect(rebound?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('does not name this machine');
    // None of it reloaded the cluster: a reload would have replaced the worker.
    expect(await workerPids(runtime)).toEqual(pidsBefore);
  });

  it('[H53] shows the shared store\'s figures while the store is in use', async () => {
    const runtime = runtimeDir();
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    try {
      // Each worker watches `leader` and claims it ephemerally (leader-worker.ts).
      const primary = track(new ClusterPrimary(testOptions('leader-worker.ts', { serviceName: 'storepage', workerCount: 2, maxStoreKeys: 100 })));
      await primary.start();
      primary.store.set('config', { retries: 3 });
      const dashboard = startCli(['dashboard', 'storepage', '--port', '0'], { runtime });
      const [, url] = await dashboard.waitFor(/dashboard for cluster storepage: (http:\/\/\S+)/);
      const { page, errors } = await openPage(url!);
      await page.locator('#fig-store', { hasText: '2 keys · ' }).waitFor({ timeout: 30_000 });
      expect(await page.textContent('#fig-store-detail')).toBe('of 100 keys, 64.0 MiB · 2 watches (2 workers) · 1 ephemeral');
      expect(errors).toEqual([]);
      await primary.shutdown();
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  it('[H66] marks a worker whose event loop is blocked as silent, without its stale loop delay and CPU, until it answers again', async () => {
    const runtime = runtimeDir();
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    // The block ends when this file exists: written by the test, or at its cleanup if it failed.
    const gate = join(runtime, 'gate');
    const unblock = onCleanup(() => writeFileSync(gate, ''));
    try {
      // Silent after 1 s (two 100 ms intervals, at least 1 s); killed only after a minute.
      const primary = track(new ClusterPrimary<ToWorker, ToPrimary>(testOptions(undefined, { serviceName: 'silentpage', workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } })));
      const [, hung] = await primary.start();
      const dashboard = startCli(['dashboard', 'silentpage', '--port', '0'], { runtime });
      const [, url] = await dashboard.waitFor(/dashboard for cluster silentpage: (http:\/\/\S+)/);
      const { page, errors } = await openPage(url!);
      await page.locator('#fig-ready', { hasText: '2 / 2' }).waitFor({ timeout: 30_000 });
      await primary.send(hung!, 'blockUntilFile', { path: gate });
      const row = page.locator(`#worker-rows tr[data-worker="${hung!.id}"][data-state="silent"]`);
      await row.waitFor({ timeout: 30_000 });
      // state, loop delay, CPU (after slot, id, name, roles, pid)
      expect(await row.locator('td').nth(5).textContent()).toMatch(/^silent \d+\.\ds$/);
      expect(await row.locator('td').nth(11).textContent()).toBe('-');
      expect(await row.locator('td').nth(12).textContent()).toBe('-');
      expect(await page.textContent('#fig-ready')).toBe('1 / 2');
      expect(await page.locator('#worker-rows tr[data-state="silent"]').count()).toBe(1);
      unblock();
      await page.locator(`#worker-rows tr[data-worker="${hung!.id}"][data-state="ready"]`).waitFor({ timeout: 30_000 });
      await page.locator('#fig-ready', { hasText: '2 / 2' }).waitFor({ timeout: 30_000 });
      expect(errors).toEqual([]);
    } finally {
      unblock();
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  // Before: a name column (empty for none) and no roles: the page said nothing of `fork({ roles })`.
  it('[H363] the worker table has each worker\'s name and roles (- for none), as text: a name with markup shows as written; roles past 32 characters are cut, the title has them all', async () => {
    const runtime = runtimeDir();
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    try {
      const primary = track(new ClusterPrimary(testOptions(undefined, { serviceName: 'rolespage', workerCount: 1 })));
      const [plain] = await primary.start();
      const [cache] = await primary.fork({ name: '<b>cache</b> & co', roles: ['batch', 'io'] });
      // 38 characters joined: cut to 31 and an ellipsis.
      const many = ['ingest', 'reports', 'scheduler', 'batch', 'io', 'mail'];
      const [busy] = await primary.fork({ roles: many });
      const dashboard = startCli(['dashboard', 'rolespage', '--port', '0'], { runtime });
      const [, url] = await dashboard.waitFor(/dashboard for cluster rolespage: (http:\/\/\S+)/);
      const { page, errors } = await openPage(url!);
      await page.locator('#fig-ready', { hasText: '3 / 3' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('thead th').allTextContents()).toEqual(expect.arrayContaining(['name', 'roles']));
      expect((await page.locator('thead th').allTextContents()).slice(0, 6)).toEqual(['slot', 'id', 'name', 'roles', 'pid', 'state']);
      const cells = async (id: number) => {
        const row = page.locator(`#worker-rows tr[data-worker="${id}"]`);
        const cell = (index: number) => row.locator('td').nth(index);
        return {
          id: await cell(1).textContent(),
          name: await cell(2).textContent(),
          nameTitle: (await cell(2).getAttribute('title')) ?? '',
          roles: await cell(3).textContent(),
          rolesTitle: (await cell(3).getAttribute('title')) ?? '',
          pid: await cell(4).textContent(),
          state: await cell(5).textContent(),
          elements: await row.locator('td b, td img').count(),
        };
      };
      expect(await cells(plain!.id)).toEqual({ id: String(plain!.id), name: '-', nameTitle: '', roles: '-', rolesTitle: '', pid: String(plain!.pid), state: 'ready', elements: 0 });
      expect(await cells(cache!.id)).toEqual({ id: String(cache!.id), name: '<b>cache</b> & co', nameTitle: '<b>cache</b> & co', roles: 'batch,io', rolesTitle: '', pid: String(cache!.pid), state: 'ready', elements: 0 });
      const joined = many.join(',');
      expect(await cells(busy!.id)).toEqual({ id: String(busy!.id), name: '-', nameTitle: '', roles: `${[...joined].slice(0, 31).join('')}\u2026`, rolesTitle: joined, pid: String(busy!.pid), state: 'ready', elements: 0 });
      // The state keeps its colour in its new column.
      expect(await page.locator(`#worker-rows tr[data-worker="${cache!.id}"] td.state`).textContent()).toBe('ready');
      expect(errors).toEqual([]);
      await primary.shutdown();
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });
});

/** In the page: every chart holds at least `points` points (the page's own count). */
function chartsHold(points: number): boolean {
  const charts = [...(globalThis as any).document.querySelectorAll('[data-chart]')] as Array<{ dataset: { points?: string } }>;
  return charts.length === 6 && charts.every((chart) => Number(chart.dataset.points) >= points);
}

async function workerPids(runtime: string): Promise<number[]> {
  const status = await cli(['status', 'guarded', '--json'], { runtime });
  return (JSON.parse(status.stdout) as { workers: Array<{ pid: number }> }).workers.map((worker) => worker.pid);
}
