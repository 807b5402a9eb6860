/**
 * `listenHealth({ role })` (H357, ops t36 L5): `/readyz` counts only the workers forked with the
 * role. A service with 2 `web` workers (HTTP) and a named `cache` worker (no HTTP) was ready,
 * with `minReady: 1`, while only the cache worker was: the load balancer sent traffic to a pod
 * that could not serve. Real workers; the web workers become ready when the test says so (a
 * file), never by a clock.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError, type WorkerHandle } from '../../src/index.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';
import { isNoStall } from '../helpers/load-stall.js';

/** A directory for the behaviour files of init-from-file.ts; removed after the test. */
function behaviourDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-health-role-'));
  onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** The status and JSON body of a GET. */
async function probe(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Resolves after the primary's next poll phase: the answers waiting on the channels are read by then. */
const afterReads = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('listenHealth({ role })', () => {
  it('[H357] /readyz with role "web" counts only the web workers: 503 while only the named cache worker is ready, 200 once the web ones are; without a role, every worker as before', async () => {
    const directory = behaviourDir();
    const ready = join(directory, 'ready');
    const web = join(directory, 'web');
    writeFileSync(ready, 'ready');
    writeFileSync(web, 'slow-ready');
    // Whatever happens, the web workers are let out of their `_init`.
    onCleanup(() => writeFileSync(`${web}.go`, ''));
    const primary = testPrimary({ workerCount: 0, env: { INIT_BEHAVIOUR_FILE: ready } }, 'workers/init-from-file.ts');
    await primary.start();
    await primary.fork({ name: 'cache', roles: ['cache'] });
    // Several listeners, one role each, on their own ports.
    const webHealth = await primary.listenHealth({ port: 0, host: '127.0.0.1', role: 'web', minReady: 1 });
    const cacheHealth = await primary.listenHealth({ port: 0, host: '127.0.0.1', role: 'cache' });
    const anyHealth = await primary.listenHealth({ port: 0, host: '127.0.0.1' });
    const webPort = webHealth.address.port;

    // No worker has the role yet: allowed, and 503 saying so.
    const noWorker = await probe(webPort, '/readyz');
    expect(noWorker).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        role: 'web',
        readyWorkers: 0,
        silentWorkers: 0,
        minReady: 1,
        reason: '0 of 1 required "web" workers ready: no worker has the role "web"; fork some with fork({ roles: ["web"] }), or fix the role given to listenHealth()',
      },
    });

    // Two web workers, both in their `_init`, not ready.
    const forking = primary.fork({ count: 2, roles: ['web'], env: { INIT_BEHAVIOUR_FILE: web } });
    await until(() => readdirSync(directory).filter((name) => name.startsWith('web.init.slot')).length === 2, 30_000, 'both web workers in their _init');
    // Before: refused as an unknown option; without it, readyWorkers 1 (the cache worker) and 200.
    expect(await probe(webPort, '/readyz')).toEqual({
      status: 503,
      body: { status: 'not ready', role: 'web', readyWorkers: 0, silentWorkers: 0, minReady: 1, reason: '0 of 1 required "web" workers ready' },
    });
    // Liveness is the primary's, not a role's.
    expect(await probe(webPort, '/healthz')).toEqual({ status: 200, body: { status: 'ok', state: 'running' } });
    expect(await probe(cacheHealth.address.port, '/readyz')).toEqual({ status: 200, body: { status: 'ready', role: 'cache', readyWorkers: 1, silentWorkers: 0, minReady: 1 } });
    // Without a role: every worker, unchanged.
    expect(await probe(anyHealth.address.port, '/readyz')).toEqual({ status: 200, body: { status: 'ready', readyWorkers: 1, silentWorkers: 0, minReady: 1 } });

    writeFileSync(`${web}.go`, '');
    await expect(forking).resolves.toHaveLength(2);
    expect(await probe(webPort, '/readyz')).toEqual({ status: 200, body: { status: 'ready', role: 'web', readyWorkers: 2, silentWorkers: 0, minReady: 1 } });
    expect(await probe(cacheHealth.address.port, '/readyz')).toMatchObject({ status: 200, body: { role: 'cache', readyWorkers: 1 } });
    expect(await probe(anyHealth.address.port, '/readyz')).toEqual({ status: 200, body: { status: 'ready', readyWorkers: 3, silentWorkers: 0, minReady: 1 } });
  });

  it('[H357] a stopped worker counts only for its own role: the cache worker stopped leaves "web" ready; the web worker stopped makes it 503', async () => {
    // Silent after about 200 ms; killed only after a minute, so the kill never races the assertions.
    const primary = testPrimary({ workerCount: 0, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    await primary.start();
    const [cache] = (await primary.fork({ name: 'cache' })) as [WorkerHandle];
    const [web] = (await primary.fork({ roles: ['web'] })) as [WorkerHandle];
    const webHealth = await primary.listenHealth({ port: 0, host: '127.0.0.1', role: 'web' });
    const anyHealth = await primary.listenHealth({ port: 0, host: '127.0.0.1', minReady: 2 });
    const stopped: WorkerHandle[] = [];
    onCleanup(() => {
      for (const worker of stopped) {
        try {
          process.kill(worker.pid!, 'SIGCONT');
        } catch {
          // gone
        }
      }
    });
    const stop = async (worker: WorkerHandle) => {
      const silent = onceEvent(primary, 'workerSilent', 30_000, (event: { worker: WorkerHandle }) => event.worker === worker);
      stopped.push(worker);
      process.kill(worker.pid!, 'SIGSTOP');
      await silent;
      await afterReads();
      await until(() => primary.stats().find((row) => row.id === worker.id)?.isPaused === true, 30_000, `worker ${worker.id} shown stopped`);
    };

    await stop(cache);
    // The pod still serves: the web worker answers (before: the workaround minReady 3 went unready here).
    expect(await probe(webHealth.address.port, '/readyz')).toEqual({ status: 200, body: { status: 'ready', role: 'web', readyWorkers: 1, silentWorkers: 0, minReady: 1 } });
    expect(await probe(anyHealth.address.port, '/readyz')).toMatchObject({ status: 503, body: { readyWorkers: 1, pausedWorkers: 1, reason: expect.stringMatching(/^1 of 2 required workers ready, 1 stopped /) } });

    await stop(web);
    expect(await probe(webHealth.address.port, '/readyz')).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        role: 'web',
        readyWorkers: 0,
        silentWorkers: 0,
        pausedWorkers: 1,
        minReady: 1,
        reason: '0 of 1 required "web" workers ready, 1 stopped (SIGSTOP, Ctrl-Z or a debugger; kill -CONT resumes it)',
      },
    });
  });

  it('[H357] checks role at the call as listenSticky() and fork() do', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    const refusal = (call: Promise<{ close(): Promise<void> }>) =>
      call.then(
        (listener) => listener.close().then(() => undefined),
        (reason: unknown) => reason,
      );
    for (const role of [5, '', 'a,b', 'x'.repeat(129), 'a\nb', 'a\u202eb', 'b\u200b', 'svc\ud800', ['web']]) {
      const error = await refusal(primary.listenHealth({ port: 0, host: '127.0.0.1', role } as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'role', message: expect.stringMatching(/^The "role" option must be a string of 1 to 128 characters without .* or commas/) });
      // The same check, and words, as listenSticky()'s role.
      const sticky = await refusal(primary.listenSticky({ port: 0, host: '127.0.0.1', role } as never));
      expect((error as Error).message).toBe((sticky as Error).message);
    }
    const listener = await primary.listenHealth({ port: 0, host: '127.0.0.1', role: 'web' });
    expect(await probe(listener.address.port, '/readyz')).toMatchObject({ status: 503, body: { role: 'web', readyWorkers: 0 } });
  });

  it('[H623] a scale that leaves fewer workers with the role than minReady warns (ReadinessUnreachableError with the role), the scale-up of role-less workers too; fork() with the role does not', async () => {
    const primary = testPrimary({ workerCount: 0 });
    const warnings: Error[] = [];
    primary.on('error', (error) => isNoStall(error) && warnings.push(error));
    // Opened before any worker with the role exists, as the tester's service does: no warning then.
    const health = await primary.listenHealth({ port: 0, host: '127.0.0.1', role: 'web', minReady: 2 });
    await primary.start();
    await primary.fork({ name: 'cache' });
    await primary.fork({ count: 2, roles: ['web'] });
    expect(warnings).toEqual([]);
    expect((await probe(health.address.port, '/readyz')).status).toBe(200);
    // Newcomer t63: `clusterkit scale app 2` stopped a "web" worker (the highest slot) without a word.
    await primary.scale(2);
    expect(warnings).toEqual([expect.objectContaining({ name: 'ReadinessUnreachableError', code: 'ERR_READINESS_UNREACHABLE', workers: 1, minReady: 2, port: health.address.port, role: 'web' })]);
    expect(warnings[0]!.message).toBe(
      `Scaled to 2 workers, 1 of them with the role "web", fewer than the 2 ready "web" workers the health endpoint on port ${health.address.port} requires (minReady, role): ` +
        '/readyz answers 503 (\'1 of 2 required "web" workers ready\') for as long as that lasts, and Kubernetes keeps the pod out of its Service. ' +
        'A scale-up forks workers with no role: to have it ready, fork "web" workers (primary.fork({ roles: ["web"] })), or lower the minimum.',
    );
    expect((await probe(health.address.port, '/readyz')).status).toBe(503);
    // Back to 3 workers, the new one with no role: still short, and said again.
    await primary.scale(3);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]!.message).toMatch(/^Scaled to 3 workers, 1 of them with the role "web", fewer than the 2 ready "web" workers/);
    await primary.fork({ roles: ['web'] });
    expect((await probe(health.address.port, '/readyz')).status).toBe(200);
    // A scale that keeps 2 with the role says nothing.
    await primary.scale(4);
    expect(warnings).toHaveLength(2);
  });

  it('[H634] each endpoint short of its minReady is told once: at its own opening, and each at a scale', async () => {
    const primary = testPrimary({ workerCount: 0 });
    const warnings: Array<Error & { port?: number; role?: string }> = [];
    primary.on('error', (error) => isNoStall(error) && warnings.push(error));
    await primary.start();
    await primary.fork({ count: 2, roles: ['web'] });
    const plain = await primary.listenHealth({ port: 0, host: '127.0.0.1', minReady: 3 });
    expect(warnings.map((warning) => warning.port)).toEqual([plain.address.port]);
    // Retest t63b: opening a second endpoint told the first one's warning again, and nothing of its own.
    const web = await primary.listenHealth({ port: 0, host: '127.0.0.1', role: 'web', minReady: 2 });
    expect(warnings).toHaveLength(1);
    // Both short at a scale: both told (before: the role's alone).
    await primary.scale(1);
    expect(warnings.slice(1).map((warning) => [warning.port, warning.role])).toEqual([
      [plain.address.port, undefined],
      [web.address.port, 'web'],
    ]);
  });
});
