/**
 * [H348] `clusterkit status --watch | head -2`: the reader goes away after two lines, and the
 * watch's next write fails with EPIPE. It ends quietly with exit 0, as `logs -f | head` does;
 * before, the EPIPE was an uncaught error printed with its stack (newcomer t35 L1).
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, kCliPath, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('[H348] status --watch into a pipe its reader closes', () => {
  it('[H348] ends with exit 0 and no stack when the reader goes away', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-idle-script.mjs', '-w', '1', '--name', 'piped'], { runtime });
    await run.waitFor(/service piped started/);
    const watch = spawn(process.execPath, [kCliPath, 'status', 'piped', '--watch', '--interval', '50ms'], { env: { ...process.env, XDG_RUNTIME_DIR: runtime }, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => watch.kill('SIGKILL'));
    let stderr = '';
    watch.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // The first frame read, the reader goes, as `head` does.
    await new Promise<void>((resolve) => watch.stdout.once('data', () => resolve()));
    watch.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => watch.once('exit', (exitCode) => resolve(exitCode)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});
