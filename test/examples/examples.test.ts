import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { waitUntilGone } from '../helpers/processes.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';

afterEach(() => killSpawned());

describe('examples', () => {
  it('http-cluster serves one port from several workers, counts requests in the primary, reloads on SIGHUP and stops on SIGTERM', async () => {
    const demo = spawnScript('examples/http-cluster/main.ts', { env: { PORT: '0', WORKERS: '2' } });
    const [, port] = await demo.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const ready = await demo.waitFor(/2 workers ready: (\d+), (\d+)/);
    const pids = [Number(ready[1]), Number(ready[2])];
    const bodies = [];
    for (let i = 0; i < 6; i++) bodies.push(JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as { pid: number; request: number });
    expect(bodies.map((body) => body.request)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(bodies.map((body) => body.pid))).toEqual(new Set(pids));
    // SIGHUP reloads: the old workers, drained gradually, stop cleanly and new ones answer.
    demo.child.kill('SIGHUP');
    await demo.waitFor(/rolling reload complete/);
    expect(demo.output()).toMatch(/rolling reload complete[^\n]*graceful=2 failed=0 killed=0/);
    await waitUntilGone(pids);
    const after = JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as { pid: number };
    expect(pids).not.toContain(after.pid);
    demo.child.kill('SIGTERM');
    await expect(demo.exited()).resolves.toBe(0);
    expect(demo.output()).toContain('shutdown complete graceful=2 failed=0 killed=0');
  });

  it('large-messages sends documents of 100 KB both ways, intact, through the bulk pipe and without it', async () => {
    for (const bulk of ['1', '0']) {
      const run = spawnScript('examples/large-messages/main.ts', { env: { WORKERS: '2', CLUSTERKIT_BULK: bulk } });
      // CPU-bound (20 MiB rendered each way): 29 s on a machine at load 20, where 60 s for the
      // whole run was not enough. An upper bound, as everywhere here.
      await expect(run.exited(180_000)).resolves.toBe(0);
      expect(run.output()).toMatch(/200 documents \(\d+\.\d MiB\) rendered in \d+\.\d\d s; 18000 words each; intact: true/);
    }
  }, 400_000);

  it('task-dispatch spreads tasks round-robin and reports a failing task', async () => {
    const run = spawnScript('examples/task-dispatch/main.ts', { env: { WORKERS: '2' } });
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toMatch(/12 tasks done: \{ '\d+': 6, '\d+': 6 \}/);
    expect(run.output()).toContain('a failing task rejects with RemoteError (RangeError: rounds must be at least 1)');
  });
});
