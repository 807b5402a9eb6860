import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';

afterEach(() => killSpawned());

describe('feature examples', () => {
  it('worker-relay: api workers use the cache worker by name, and cope without it', async () => {
    const run = spawnScript('examples/worker-relay/main.ts');
    await expect(run.exited()).resolves.toBe(0);
    // workerCount: 0: the primary runs the three named workers and no anonymous one.
    expect(run.output()).toContain('workers: cache, api-a, api-b');
    expect(run.output()).toContain("first lookup : { user: 'User #7', cached: false, servedBy: 'api-a' }");
    expect(run.output()).toContain("second lookup: { user: 'User #7', cached: true, servedBy: 'api-b' }");
    expect(run.output()).toContain('[cache] get user:7 from api-b');
    expect(run.output()).toContain("cached: 'no cache'");
  });

  it('[F52] shared-store: four workers count atomically, see the setting change, and elect a new leader after a SIGKILL', async () => {
    const run = spawnScript('examples/shared-store/main.ts');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toContain('views counted by 4 workers: 1000');
    expect(run.output()).toContain('theme seen by the workers: dark');
    const [, killed, next] = /after a SIGKILL of worker (\d+): worker (\d+) leads \(1 leader\)/.exec(run.output()) ?? [];
    expect(killed).toBeDefined();
    expect(next).not.toBe(killed);
  });

  it('sticky-sessions: a client keeps its worker and its session', async () => {
    const run = spawnScript('examples/sticky-sessions/main.ts', { env: { PORT: '0', WORKERS: '2' } });
    const [, port] = await run.waitFor(/sticky sessions on http:\/\/127\.0\.0\.1:(\d+)\//);
    const visit = async (client: string) => JSON.parse((await get(`http://127.0.0.1:${port}/`, 5_000, client)).body) as { visits: number; pid: number };
    const first = await visit('127.0.0.2');
    const second = await visit('127.0.0.2');
    const third = await visit('127.0.0.2');
    expect([first.visits, second.visits, third.visits]).toEqual([1, 2, 3]);
    expect(new Set([first.pid, second.pid, third.pid]).size).toBe(1);
    await expect(visit('127.0.0.3')).resolves.toMatchObject({ visits: 1 });
    run.child.kill('SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('metrics: the primary merges the workers counters', async () => {
    const run = spawnScript('examples/metrics/main.ts');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toContain('app_jobs_total{route="/search"} 6');
    expect(run.output()).toContain('app_jobs_total{route="/export"} 4');
    expect(run.output()).toContain('clusterkit_workers{state="ready"} 2');
  });

  it('kubernetes: probes and metrics answer, SIGTERM stops gracefully', async () => {
    const run = spawnScript('examples/kubernetes/server.ts', { env: { PORT: '0', HEALTH_PORT: '0', WORKERS: '2' } });
    const [, port] = await run.waitFor(/probes on :(\d+)/);
    await expect(get(`http://127.0.0.1:${port}/healthz`)).resolves.toMatchObject({ status: 200 });
    await expect(get(`http://127.0.0.1:${port}/readyz`)).resolves.toMatchObject({ status: 200 });
    expect((await get(`http://127.0.0.1:${port}/metrics`)).body).toContain('clusterkit_workers{state="ready"} 2');
    run.child.kill('SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toContain('shutdown complete graceful=2 failed=0 killed=0');
  });
});
