import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('a ClusterWorker of its own in a script that clusterkit run runs', () => {
  it('[H148] start() is refused with NotAWorkerError at its call, saying what to do; the script serves on, and the primary warns of nothing', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-own-cluster-worker.mjs', '-w', '1', '--name', 'ownworker'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service ownworker started: 1 worker/);
    const [refused] = await run.waitFor(/\[ownworker:1\] refused .*/);
    // Before: "started", then the primary's "sent "$ready" at a time its state rules out ... another clusterkit version".
    expect(refused).toContain('refused NotAWorkerError ERR_NOT_A_WORKER: ClusterWorker.start() was called in a script that "clusterkit run" runs:');
    expect(refused).toContain('new ClusterPrimary({ workerScript: <this file> })');
    // The error is made in start(): its stack names the script's call.
    const [at] = await run.waitFor(/\[ownworker:1\] at .*/);
    expect(at).toContain('cli-own-cluster-worker.mjs');
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited(30_000)).resolves.toBe(0);
    expect(run.output()).not.toMatch(/another clusterkit version|rules out|\] started\n/);
  });
});
