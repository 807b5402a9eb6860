/**
 * A cluster name given as bytes that are not UTF-8: Node reads each such byte of an argument as
 * U+FFFD, so `--name $'hx-\xff'` and `$'hx-\xc0'` were one name (`status` of one reached the
 * other, hostile t39 L1). Real shells, real bytes: Node's spawn() takes strings only.
 */
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, kCliPath, runtimeDir } from './cli-process.js';

afterEach(() => cleanUpCli());

/** `clusterkit <args>` through bash, whose `$'\xff'` passes the byte itself. */
function viaShell(args: string, runtime: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', `exec node ${JSON.stringify(kCliPath)} ${args}`], { env: { ...process.env, XDG_RUNTIME_DIR: runtime }, timeout: 60_000 }, (error, _stdout, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr }),
    );
  });
}

describe('a cluster name that is not UTF-8', () => {
  it('[H408] run, status and stop refuse a name holding U+FFFD (a byte that is not UTF-8 reads as it), exit 2, saying so', async () => {
    const runtime = runtimeDir();
    // Before: started as "hx-\uFFFD"; `status $'hx-\xc0'` answered for it.
    const run = await viaShell(`run test/fixtures/cli-slow-server.mjs --name $'hx-\\xff' -w 1`, runtime);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the replacement character U+FFFD (what a byte that is not UTF-8 reads as: names of different bytes would be one); write the name in UTF-8');
    for (const command of ['status', 'stop']) {
      const answer = await viaShell(`${command} $'hx-\\xc0'`, runtime);
      expect(answer.code).toBe(2);
      expect(answer.stderr).toContain('U+FFFD');
    }
  });
});
