/**
 * `npm run bench:dashboard`: how heavy the dashboard page is with a big cluster. A synthetic
 * feed stands in for a cluster of `--workers` workers (64 by default) whose 10 minutes of
 * history are already full, so the page starts with the largest snapshot it can get, then a
 * tick every second with an event now and then. Measured in the system's headless Chromium:
 * the snapshot's size, the time until every chart is drawn, then, while it updates, the share
 * of the page's main thread that is busy (Chrome's TaskDuration), the longest task (the
 * longest the page could not react to input) and the JS heap. Those are wall-clock figures:
 * on a busy machine they grow. `browserCpuPercent` (Linux) is the CPU time all of Chromium's
 * processes used per second of updates, which a busy machine does not inflate.
 *
 *   npm run bench:dashboard -- [--workers 64] [--seconds 15] [--screenshot page.png]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { ClusterEvent, ClusterStatus } from '../src/control/control-protocol.js';
import type { ClusterFeed, FeedSnapshot, FeedUpdate } from '../src/cli/dashboard/cluster-feed.js';
import { startDashboardServer } from '../src/cli/dashboard/dashboard-server.js';
import type { Sample, SlotFigures } from '../src/cli/dashboard/samples.js';
import type { WorkerStats } from '../src/primary/features/worker-stats.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '64' }, seconds: { type: 'string', default: '15' }, screenshot: { type: 'string' } } });
const workers = Number(values.workers);
const seconds = Number(values.seconds);
const kHistory = 600;

let clock = Date.now() - kHistory * 1_000;
let seq = 0;
const samples: Sample[] = [];
const events: ClusterEvent[] = [];
for (let i = 0; i < kHistory; i++) samples.push(sample((clock += 1_000)));
for (let i = 0; i < 120; i++) events.push(event(samples[i * 5]!.t));
const subscribers = new Set<(update: FeedUpdate) => void>();
const feed = {
  snapshot: (): FeedSnapshot => ({ name: 'bench', intervalMs: 1_000, historyMs: 600_000, samples, events, missed: 0, status: status(), slotNotes: [], offline: null }),
  subscribe(listener: (update: FeedUpdate) => void) {
    subscribers.add(listener);
    return () => subscribers.delete(listener);
  },
} as unknown as ClusterFeed;
const ticker = setInterval(() => {
  const next = sample((clock = Date.now()));
  samples.push(next);
  samples.shift();
  for (const subscriber of subscribers) {
    subscriber({ kind: 'tick', sample: next, status: status(), slotNotes: [] });
    if (Math.random() < 0.3) subscriber({ kind: 'events', events: [event(clock)], missed: 0 });
  }
}, 1_000);

const server = await startDashboardServer({ feed, host: '127.0.0.1', port: 0, token: undefined, hostNames: [], control: { reload: async () => ({}), scale: async () => ({}) } });
const url = `http://127.0.0.1:${server.port}/`;
const snapshotBytes = Buffer.byteLength(JSON.stringify({ ...feed.snapshot(), allowControl: false }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  // Tasks over 50 ms, the ones a user can feel.
  await page.addInitScript(
    "globalThis.longTasks = []; new PerformanceObserver((list) => list.getEntries().forEach((entry) => globalThis.longTasks.push(entry.duration))).observe({ type: 'longtask' });",
  );
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction(() => {
    const charts = [...(globalThis as any).document.querySelectorAll('[data-chart]')] as Array<{ dataset: { points?: string } }>;
    return charts.length === 6 && charts.every((chart) => Number(chart.dataset.points) > 0);
  });
  const firstDrawMs = performance.now() - started;
  await page.evaluate(() => ((globalThis as { longTasks?: number[] }).longTasks!.length = 0));
  const before = await metrics();
  const cpuBefore = chromiumCpuSeconds();
  const from = performance.now();
  await page.waitForTimeout(seconds * 1_000);
  const after = await metrics();
  const cpuAfter = chromiumCpuSeconds();
  const busy = (after.TaskDuration! - before.TaskDuration!) / ((performance.now() - from) / 1_000);
  if (values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true });
  const longTasks = await page.evaluate(() => (globalThis as { longTasks?: number[] }).longTasks!);
  const points = Number(await page.getAttribute('[data-chart="rss"]', 'data-points'));
  console.log(
    JSON.stringify({
      workers,
      snapshotKiB: Math.round(snapshotBytes / 1024),
      pointsPerChart: points,
      firstDrawMs: Math.round(firstDrawMs),
      mainThreadBusyPercent: Math.round(busy * 1000) / 10,
      longTasksPerSecond: Math.round((longTasks.length / seconds) * 10) / 10,
      longestTaskMs: Math.round(Math.max(0, ...longTasks)),
      browserCpuPercent: cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round(((cpuAfter - cpuBefore) / ((performance.now() - from) / 1_000)) * 1000) / 10,
      jsHeapMiB: Math.round((after.JSHeapUsedSize! / 1048576) * 10) / 10,
    }),
  );

  async function metrics(): Promise<Record<string, number>> {
    const { metrics: list } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
    return Object.fromEntries(list.map(({ name, value }) => [name, value]));
  }
} finally {
  clearInterval(ticker);
  await browser.close();
  await server.close();
}

/** User + system CPU seconds of this process's Chromium descendants, from /proc; undefined elsewhere. */
function chromiumCpuSeconds(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const stats = new Map<number, { parent: number; cpu: number; name: string }>();
  for (const entry of entries) {
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { parent: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / 100, name });
    } catch {
      // exited meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let current = stats.get(pid); current; current = stats.get(current.parent)) if (current.parent === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, stat] of stats) if (/chrom/i.test(stat.name) && descends(pid)) total += stat.cpu;
  return total;
}

function sample(t: number): Sample {
  const slots: SlotFigures[] = [];
  for (let slot = 0; slot < workers; slot++) {
    const wave = Math.sin(t / 60_000 + slot);
    // Rounded as the real samples are (samples.ts).
    const figures = [60 + slot + wave * 5, 8 + wave, 0.5 + Math.random(), 4 + Math.random() * 20, 20 + wave * 15, 100 + Math.random() * 50].map((value) => Math.round(value * 10) / 10);
    slots.push([slot, slot + 1, ...figures] as SlotFigures);
  }
  return { t, slots };
}

function status(): ClusterStatus {
  const stats: WorkerStats[] = Array.from({ length: workers }, (_, slot) => ({
    id: slot + 1, pid: 10_000 + slot, slot, name: undefined, roles: [], state: 'ready', uptimeMs: 600_000, restarts: 0, crashes: 0,
    rssBytes: 64 * 1048576, heapUsedBytes: 8 * 1048576, heapTotalBytes: 16 * 1048576, eventLoopDelayMs: 0.6, eventLoopDelayP99Ms: 5,
    cpuPercent: 20, healthAgeMs: 500, silentMs: 500, isSilent: false, isPaused: false, isClosed: false, messagesIn: 1_000, messagesOut: 1_000, pending: 0, protocolErrors: 0,
  }));
  return { name: 'bench', pid: process.pid, state: 'running', startedAt: 0, uptimeMs: 600_000, script: 'bench.js', targetWorkers: workers, nodeVersion: process.version, workers: stats, protocolErrors: 0 };
}

function event(at: number): ClusterEvent {
  const slot = Math.floor(Math.random() * workers);
  return { seq: ++seq, at, type: seq % 2 === 0 ? 'workerRestart' : 'workerExit', workerId: slot + 1, pid: 10_000 + slot, slot, code: 1, signal: null, expected: false, delayMs: 100, attempt: 1, previousId: slot };
}
