/**
 * A stop of the whole process group (Ctrl-C, systemd's SIGTERM to the cgroup) while the workers
 * start: a worker with no listener for the signal dies of it, and the primary may read that exit
 * before its own copy of the signal (clean-clone CI: `[a2] ERROR worker 1 could not start: it was
 * killed by SIGINT before it was ready`, then `[a2] shutting down signal=SIGINT`). The verdict on
 * such an exit waits a moment for the primary's own stop (H448). Here the order is forced: a
 * preload in the primary sends it the signal from node:cluster's 'exit' event, which comes right
 * after the pool's own 'exit' listener ran.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';
import { kUnguardedStart } from './unguarded-start.js';

afterEach(() => cleanUpCli());

/** In the primary only: a worker's death by a stop signal is followed by the same signal to the primary, read after that exit. */
const kSignalAfterExit = `const cluster = require('node:cluster');
if (cluster.isPrimary) {
  cluster.on('exit', (worker, code, signal) => {
    if (signal === 'SIGINT' || signal === 'SIGTERM') process.kill(process.pid, signal);
  });
}
`;

describe('clusterkit run: a worker killed by the group stop signal before the primary reads its own', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`[H448] ${signal}: the worker was stopped before it was ready, not a failed start; no replacement; the start was interrupted, exit 1`, async () => {
      const runtime = runtimeDir();
      const project = tempProject({ 'server.mjs': kUnguardedStart, 'order.cjs': kSignalAfterExit });
      const run = startCli(['run', 'server.mjs', '-w', '2', '--name', 'order', '--shutdown-timeout', '2s'], {
        runtime,
        cwd: project,
        env: { PORT: String(await freePort()), NODE_OPTIONS: `--require=${project}/order.cjs` },
      });
      await run.waitFor(/^\[order:1\] starting \d+$/m);
      await run.waitFor(/^\[order:2\] starting \d+$/m);
      const pids = [...run.output().matchAll(/starting (\d+)$/gm)].map((match) => Number(match[1]));
      process.kill(pids[0]!, signal);
      // Before: `ERROR worker 1 could not start: it was killed by SIGINT before it was ready`, a
      // worker 3 forked as its restart, then `shutting down`.
      await expect(run.exited(30_000)).resolves.toBe(1);
      const stderr = run.stderr();
      expect(stderr).not.toContain('could not start');
      expect(stderr).not.toContain('workerId=3');
      expect(stderr).toMatch(new RegExp(`^\\[order\\] WARN worker \\d was stopped before it was ready: it was killed by ${signal} `, 'm'));
      expect(stderr).toMatch(/^\[order\] WARN shutdown complete: the start was interrupted, 2 workers stopped before they were ready .*notStarted=2$/m);
      await waitUntilGone(pids);
    });
  }
});
