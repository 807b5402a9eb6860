/**
 * [H429] `clusterkit logs api -f | head -c 100`: the reader goes away, and the follower's next
 * write fails with EPIPE. It ends quietly with exit 0, closing its connection; the cluster runs
 * on. Before, it blamed the cluster: "cluster api stopped" (or, when the pipe closed before the
 * answer, "closed the control connection before it answered"), while the cluster ran fine.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, cli, kCliPath, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('[H429] logs --follow into a pipe its reader closes', () => {
  it('[H429] ends quietly with exit 0 and the cluster keeps running', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-ticker.mjs', '-w', '1', '--name', 'ticking'], { runtime });
    await run.waitFor(/service ticking started/);
    const follow = spawn(process.execPath, [kCliPath, 'logs', 'ticking', '-f'], { env: { ...process.env, XDG_RUNTIME_DIR: runtime }, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => follow.kill('SIGKILL'));
    let stderr = '';
    follow.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => follow.once('exit', (exitCode) => resolve(exitCode)));
    // The first bytes read, the reader goes, as `head -c 100` does; the next tick's write fails.
    await new Promise<void>((resolve) => follow.stdout.once('data', () => resolve()));
    follow.stdout.destroy();
    const code = await exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const status = await cli(['status', 'ticking'], { runtime });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/running/);
  });
});
