/**
 * A worker's IPC channel is untrusted input. One primary process (hostile-primary.ts, written as
 * the README writes one: no `error` listener) serves a good worker and a hostile one that speaks
 * the wire format by hand (hostile-worker.ts). The tests share that one run and each checks one
 * consequence: the primary must survive all of it, keep serving, and say what it dropped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listClusters, controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { formatList, formatStatus } from '../../src/cli/format-status.js';
import type { WorkerStats } from '../../src/index.js';
import { killSpawned, spawnScript, type Spawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';

interface Report {
  attack: { sent: number; pings: number; answeredProbes: string[] };
  served: number;
  failures: string[];
  workerErrors: number;
  destroyTimeouts: number;
  rssBefore: number;
  rssPeak: number;
  filesBefore: number;
  filesAfter: number;
  stats: WorkerStats[];
  scrapes: string[];
  hostileState: string;
}

const kName = 'hostile';
let runtime: string;
let directory: string;
let primary: Spawned;
let report: Report | undefined;

beforeAll(async () => {
  runtime = mkdtempSync(join(tmpdir(), 'ck-'));
  directory = join(runtime, 'clusterkit');
  primary = spawnScript('test/fixtures/hostile-primary.ts', { env: { XDG_RUNTIME_DIR: runtime, HOSTILE_SERVICE: kName } });
  // The report, or the primary's death, whichever comes first.
  const reportLine = () => /^\{"event":"report".*$/m.exec(primary.stdout())?.[0];
  await until(() => reportLine() !== undefined || primary.child.exitCode !== null || primary.child.signalCode !== null, 90_000, 'the report');
  const line = reportLine();
  if (!line) throw new Error(`The primary exited (${primary.child.exitCode ?? primary.child.signalCode}) under attack:\n${primary.output()}`);
  report = JSON.parse(line) as Report;
}, 120_000);

afterAll(async () => {
  try {
    primary.child.kill('SIGTERM');
    await primary.exited(30_000);
  } finally {
    killSpawned();
    rmSync(runtime, { recursive: true, force: true });
  }
});

const hostileRow = () => report!.stats[1]!;

describe('a hostile worker', () => {
  it('[F49][H390] cannot crash the primary with heartbeat answers of null, nothing, strings or huge fields', () => {
    expect(report!.attack.pings).toBeGreaterThanOrEqual(6);
    expect(primary.child.exitCode).toBeNull();
    // None of its figures was taken: they stay unknown rather than wrong.
    for (const key of ['heapUsedBytes', 'heapTotalBytes', 'eventLoopDelayMs', 'eventLoopDelayP99Ms'] as const) expect(hostileRow()[key]).toBeUndefined();
    // Its RSS: none of its word either; on Linux the primary reads it itself once the worker is
    // silent (its answers all dropped), H414: then a figure of this machine's, whatever it answered.
    const { rssBytes } = hostileRow();
    if (process.platform === 'linux') expect(rssBytes === undefined || (rssBytes > 0 && rssBytes <= totalmem())).toBe(true);
    else expect(rssBytes).toBeUndefined();
    // Its CPU is the primary's own reading where it reads it (Linux, H390), whatever it answers; none elsewhere.
    const { cpuPercent } = hostileRow();
    if (process.platform === 'linux') expect(cpuPercent === undefined || (cpuPercent >= 0 && cpuPercent < 1_000)).toBe(true);
    else expect(cpuPercent).toBeUndefined();
    expect(report!.stats[0]!.rssBytes).toBeGreaterThan(0);
  });

  it('[F49][H299] has system messages of the wrong kind or shape, forged replies and broken frames dropped and counted, never emitted as error', async () => {
    expect(report!.hostileState).toBe('ready');
    expect(report!.stats[0]!.protocolErrors).toBe(0);
    // Every bad heartbeat answer, garbage message and broken frame counts (the flood alone is 20 000).
    expect(hostileRow().protocolErrors).toBeGreaterThan(report!.attack.sent);
    expect(primary.stderr()).not.toMatch(/TypeError|Unhandled|uncaught/i);
    // A rate-limited warning names the worker: not one line per dropped message.
    const warnings = primary.stderr().split('\n').filter((line) => line.includes('protocol'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(5);
    expect(warnings[0]).toMatch(new RegExp(`worker ${hostileRow().id} \\(pid ${hostileRow().pid}\\)`, 'i'));
    // [H299] A line that sums messages of several kinds counts each kind, and they add up: before,
    // all were told as the last one's kind (hostile t31 L1).
    // The burst after the first line is told when the 10 s interval ends.
    const pattern = /Of the (\d+) messages dropped, ([^;]+); the above is the last\./;
    await until(() => pattern.test(primary.stderr()), 30_000, 'the line summing the burst');
    const mixed = primary.stderr().split('\n').map((line) => pattern.exec(line)).filter((match) => match !== null);
    for (const [, dropped, kinds] of mixed) {
      const counts = kinds!.split(', ').map((kind) => Number(/^(\d+) [a-z-]+$/.exec(kind)![1]));
      expect(counts.length).toBeGreaterThan(1);
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(Number(dropped));
    }
  });

  it('[F49] does not report an init-error notice from a ready worker as an _init failure', () => {
    expect(report!.workerErrors).toBe(0);
    expect(primary.stderr()).not.toContain('_init');
  });

  // Before: kinds 0.5, 4.2 and 2 ** 40 reached handlers as requests; a `$ping` or `$shutdown`
  // request was answered with a NoHandlerError suggesting "_onMessage_$ping".
  it('[F49] drops records whose kind is not an integer from 0 to 15, and system types only the primary sends, without an answer', () => {
    expect(report!.attack.answeredProbes).toEqual([]);
  });

  // Before: "_destroy() did not finish within 5 ms ... it exits with code 1" while it ran on.
  it('[F49] drops stop notices ($destroyFailed, $drain) from a worker that is not stopping, instead of reporting them', () => {
    expect(report!.destroyTimeouts).toBe(0);
    expect(report!.workerErrors).toBe(0);
    expect(primary.stderr()).not.toMatch(/_destroy|did not stop cleanly/);
  });

  it('[F49] cannot fail a metrics scrape with a garbage reply: its slot counts a scrape error, the others are merged', () => {
    for (const [index, text] of report!.scrapes.entries()) {
      expect(text).toMatch(/app_requests_total\{route="\/"\} \d+/);
      expect(text).toContain(`clusterkit_worker_scrape_errors_total{slot="1"} ${index + 1}`);
    }
  });

  it('[F49] cannot break `clusterkit status` or `list`: every figure shown is a finite number or -', async () => {
    const status = (await controlRequest(kName, 'status', { directory, timeoutMs: 5_000 })) as ClusterStatus;
    expect(JSON.stringify(status).length).toBeLessThan(100_000);
    expect(status.protocolErrors).toBeGreaterThanOrEqual(hostileRow().protocolErrors);
    for (const worker of status.workers) {
      for (const key of ['rssBytes', 'heapUsedBytes', 'heapTotalBytes', 'eventLoopDelayMs', 'eventLoopDelayP99Ms', 'cpuPercent'] as const) {
        const value = worker[key];
        expect(value === undefined || Number.isFinite(value)).toBe(true);
      }
    }
    const table = formatStatus(status);
    expect(table).toContain(`${hostileRow().id}`);
    const listed = await listClusters(directory, 5_000);
    expect(listed.map((cluster) => cluster.name)).toEqual([kName]);
    expect(formatList(listed)).toContain(kName);
  });

  it('[F49] keeps serving a good worker through a flood of garbage, under a memory bound', () => {
    expect(report!.failures).toEqual([]);
    expect(report!.served).toBeGreaterThan(0);
    expect(report!.rssPeak - report!.rssBefore).toBeLessThan(150 * 1024 * 1024);
    // Handles sent along with frames (100 sockets) are closed, not kept open.
    expect(report!.filesAfter - report!.filesBefore).toBeLessThan(20);
  });
});
