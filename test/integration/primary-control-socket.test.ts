/**
 * A plain `ClusterPrimary` with a `serviceName` serves the control socket: `clusterkit status`,
 * `reload`, `scale`, `stop` and the dashboard's `events` reach it as they reach the runner's.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterNameInUseError, InvalidOptionError } from '../../src/index.js';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterDescription, ClusterStatus, EventsPage } from '../../src/control/control-protocol.js';
import { testPrimary } from '../helpers/primary.js';
import { isAlive } from '../helpers/processes.js';
import { kRepoRoot, spawnNode, spawnScript } from '../helpers/spawn.js';
import { isNoStall } from '../helpers/load-stall.js';

const kSavedRuntime = process.env.XDG_RUNTIME_DIR;
let runtime: string | undefined;
afterEach(() => {
  if (kSavedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = kSavedRuntime;
  if (runtime) rmSync(runtime, { recursive: true, force: true });
  runtime = undefined;
});

/** A runtime directory of the test's own, so the socket never meets a real cluster. */
function privateRuntime(): string {
  runtime = mkdtempSync(join(tmpdir(), 'ck-'));
  process.env.XDG_RUNTIME_DIR = runtime;
  return join(runtime, 'clusterkit');
}

describe('ClusterPrimary with a serviceName', () => {
  it('answers status, scale, events and stop over its control socket, and removes it at shutdown', async () => {
    const directory = privateRuntime();
    const primary = testPrimary({ serviceName: 'bare', workerCount: 1 });
    const [first] = await primary.start();
    const status = (await controlRequest('bare', 'status', { directory })) as ClusterStatus;
    expect(status).toMatchObject({ name: 'bare', pid: process.pid, state: 'running', targetWorkers: 1, protocolErrors: 0 });
    expect(status.workers.map((worker) => worker.pid)).toEqual([first!.pid]);

    const scaled = (await controlRequest('bare', 'scale', { count: 2, directory })) as ClusterStatus;
    expect(scaled.targetWorkers).toBe(2);
    expect(primary.workers).toHaveLength(2);
    const page = (await controlRequest('bare', 'events', { after: 0, directory })) as EventsPage;
    expect(page.events.map((event) => event.type)).toEqual(['workerFork', 'workerReady', 'scale', 'workerFork', 'workerReady', 'scaleComplete']);
    expect(page.events[2]).toMatchObject({ seq: 3, type: 'scale', from: 1, to: 2 });
    expect(page.events[5]).toMatchObject({ seq: 6, type: 'scaleComplete', from: 1, to: 2, graceful: 0, failed: 0, killed: 0, requestsCut: 0 });
    expect((await controlRequest('bare', 'events', { after: page.last, directory })) as EventsPage).toEqual({ events: [], last: 6, missed: 0 });

    // handleSignals: false (the tests' primaries): the process is its code's, and the answer says it keeps running (H665).
    expect(await controlRequest('bare', 'stop', { directory })).toEqual({ graceful: 2, failed: 0, killed: 0, requestsCut: 0, pid: process.pid, keepsRunning: true });
    expect(primary.state).toBe('stopped');
    expect(existsSync(join(directory, 'bare.sock'))).toBe(false);
  });

  it('[H601] a scale that stops a named worker says so in its answer, with a count under minReady after it, as the log does', async () => {
    const directory = privateRuntime();
    const primary = testPrimary({ serviceName: 'named', workerCount: 1 });
    const warnings: Error[] = [];
    primary.on('error', (error) => isNoStall(error) && warnings.push(error));
    await primary.start();
    await primary.fork({ name: 'cache' });
    const health = await primary.listenHealth({ port: 0, host: '127.0.0.1', minReady: 2 });
    // t60: `clusterkit scale app 1` printed only "scaled app to 1 worker (pid ...)"; the stopped name was in the log alone.
    const scaled = (await controlRequest('named', 'scale', { count: 1, directory })) as ClusterStatus & { warning?: string };
    const [named, unreachable] = warnings;
    expect(named).toMatchObject({ code: 'ERR_NAMED_WORKER_STOPPED', names: ['cache'] });
    expect(unreachable).toMatchObject({ code: 'ERR_READINESS_UNREACHABLE' });
    expect(scaled.warning).toBe(`${named!.message} ${unreachable!.message}`);
    // A scale that stops no named worker, and leaves minReady met, has no warning.
    const again = (await controlRequest('named', 'scale', { count: 2, directory })) as ClusterStatus & { warning?: string };
    expect(again.warning).toBeUndefined();
    await health.close();
    await primary.shutdown();
  });

  it('[H207] describes what it knows for `clusterkit show`: its options in force, the count\'s reason, the health endpoint while it listens, env names only', async () => {
    const directory = privateRuntime();
    const primary = testPrimary({ serviceName: 'lib', workerCount: 1, shutdownTimeoutMs: 4_000, restart: false, readyTimeoutMs: Infinity, env: { TOKEN: 'secret-value' } });
    await primary.start();
    const health = await primary.listenHealth({ port: 0, host: '127.0.0.1' });
    const described = (await controlRequest('lib', 'describe', { directory })) as ClusterDescription;
    expect(described).toMatchObject({ name: 'lib', pid: process.pid, targetWorkers: 1 });
    expect(described.workers).toHaveLength(1);
    expect(described.settings).toMatchObject({
      execMode: 'cluster',
      instances: { atStart: 1, reason: 'the "workerCount" option' },
      shutdownTimeoutMs: 4_000,
      readyTimeoutMs: null,
      restart: false,
      watch: false,
      health: { host: '127.0.0.1', port: health.address.port, minReady: 1 },
      envNames: ['TOKEN'],
    });
    expect(JSON.stringify(described)).not.toContain('secret-value');
    await health.close();
    expect(((await controlRequest('lib', 'describe', { directory })) as ClusterDescription).settings.health).toBeNull();
  });

  it('refuses a name that is taken before forking, and a name that cannot be one', async () => {
    privateRuntime();
    await testPrimary({ serviceName: 'taken' }).start();
    const second = testPrimary({ serviceName: 'taken' });
    await expect(second.start()).rejects.toBeInstanceOf(ClusterNameInUseError);
    expect(second.workers).toEqual([]);
    expect(() => testPrimary({ serviceName: '../etc' })).toThrow(InvalidOptionError);
  });

  it('[H58] tags its default log lines with the service name, as clusterkit run does', async () => {
    privateRuntime();
    const named = spawnScript('test/fixtures/named-primary.ts', { env: { XDG_RUNTIME_DIR: runtime! } });
    await expect(named.exited()).resolves.toBe(0);
    const lines = named.stderr().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line).toMatch(/^\[storeapp\] /);
  });

  it('[H665] a clusterkit stop ends the process of a primary with handleSignals, as a SIGTERM does; one without says it keeps running (hostile t67: "stopped", exit 0, the process left with no worker)', async () => {
    privateRuntime();
    const cli = (args: string[]) => spawnNode([join(kRepoRoot, 'dist/cli/main.js'), ...args], { env: { XDG_RUNTIME_DIR: runtime! } });
    const owned = spawnScript('test/fixtures/kept-primary.ts', { env: { XDG_RUNTIME_DIR: runtime!, NAME: 'kept' } });
    await owned.waitFor(/"event":"started"/);
    const stop = cli(['stop', 'kept']);
    await expect(stop.exited()).resolves.toBe(0);
    expect(stop.stdout()).toBe('stopped kept: 1 worker stopped gracefully\n');
    // Exited (0: every worker stopped cleanly) before the stop returned.
    await expect(owned.exited(5_000)).resolves.toBe(0);

    const kept = spawnScript('test/fixtures/kept-primary.ts', { env: { XDG_RUNTIME_DIR: runtime!, NAME: 'kept2', HANDLE_SIGNALS: '0' } });
    await kept.waitFor(/"event":"started"/);
    const second = cli(['stop', 'kept2']);
    await expect(second.exited()).resolves.toBe(0);
    expect(second.stdout()).toBe(`stopped kept2: 1 worker stopped gracefully; its primary (pid ${kept.child.pid}) keeps running: its code runs it with handleSignals: false, and ends the process itself\n`);
    expect(isAlive(kept.child.pid!)).toBe(true);
    kept.child.kill('SIGKILL');
  });
});
