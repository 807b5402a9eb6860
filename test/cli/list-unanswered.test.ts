/**
 * A primary out of file descriptors accepts a control connection only to drop it (libuv's EMFILE
 * fallback): `clusterkit list` used to take it for no cluster at all ("No cluster is running.",
 * exit 0) while the cluster ran. A socket some process listens on is a running cluster.
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** A cluster "frozen" whose primary is out of descriptors: it accepts, then closes every connection unanswered. */
async function frozenCluster(): Promise<{ runtime: string; frozen: net.Server }> {
  const runtime = runtimeDir();
  const directory = join(runtime, 'clusterkit');
  mkdirSync(directory, { mode: 0o700 });
  const frozen = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => frozen.listen(join(directory, 'frozen.sock'), resolve));
  return { runtime, frozen };
}

describe('a cluster whose primary does not answer', () => {
  it('[H68] list and status say it is running but did not answer, and exit 1; once nobody listens, none is listed', async () => {
    const { runtime, frozen } = await frozenCluster();
    try {
      for (const args of [['list'], ['status'], ['list', '--json']]) {
        const result = await cli(args, { runtime });
        expect(result.code).toBe(1);
        expect(result.stdout).not.toContain('No cluster is running');
        expect(result.stderr).toMatch(/^clusterkit: cluster "frozen" is running \(a process listens on its control socket\) but did not answer "status": .*Its primary may be blocked, out of file descriptors, or exiting/);
      }
      expect(JSON.parse((await cli(['list', '--json'], { runtime })).stdout)).toEqual([]);
    } finally {
      await new Promise((resolve) => frozen.close(resolve));
    }
    // Nobody listens any more: nothing runs.
    const after = await cli(['list'], { runtime });
    expect(after).toMatchObject({ code: 0, stdout: 'No cluster is running.\n', stderr: '' });
  });

  it('[H80] status --watch names it in every round, as list does, instead of leaving it out', async () => {
    const { runtime, frozen } = await frozenCluster();
    try {
      const watch = startCli(['status', '--watch', '--interval', '50ms'], { runtime });
      const line = /clusterkit: cluster "frozen" is running \(a process listens on its control socket\) but did not answer "status": .*Its primary may be blocked, out of file descriptors, or exiting; try "clusterkit status frozen" again, and look at its logs\.\n/g;
      // Two rounds, each naming it: not a line written once.
      await watch.waitFor(new RegExp(`(?:${line.source}[^]*){2}`));
      expect(watch.stdout()).not.toContain('No cluster is running');
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
      expect(watch.stderr().match(line)!.length).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((resolve) => frozen.close(resolve));
    }
  });
});
