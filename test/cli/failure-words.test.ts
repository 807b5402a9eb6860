/**
 * [H431] A script that is only `process.exit(0)` printed nothing, yet its failed start said
 * "(its output says why)". [H432] `-l /proc/ex.log` was refused as "its directory does not
 * exist: create it (mkdir -p)" though /proc exists: its file system creates no file.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('failure words that say only what is true', () => {
  it('[H431][H564] a worker that exits with code 0 before it was ready is not sent to its empty output', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'exit0.cjs': 'process.exit(0);\n' });
    const run = await cli(['run', 'exit0.cjs', '-w', '1', '--name', 'exit0'], { runtime, cwd: project, ms: 120_000 });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/worker \d+ could not start: it exited with code 0 before it was ready: its script ended/);
    expect(run.stderr).not.toMatch(/its output says why/);
    // [H564] The crash-loop line's last failure too (hostile t58: "... before it was ready. Check its output for the error.").
    expect(run.stderr).toMatch(/no longer restarted\. Last failure: Worker \d+ \(pid \d+\) exited with code 0 before it was ready\. Its script ended \(process\.exit\(0\), or nothing left to keep it running\) without listening or becoming ready: no error to look for in its output\./);
    expect(run.stderr).not.toContain('Check its output for the error');
  }, 150_000);

  it('[H432] a log file on /proc is refused as a special file system, not as a missing directory', async () => {
    // Linux's /proc; elsewhere there is nothing to look at.
    if (!existsSync('/proc/self')) return;
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': 'setInterval(() => {}, 1 << 30);\n' });
    const run = await cli(['run', 'server.cjs', '-w', '1', '--name', 'procx', '-l', '/proc/ex.log'], { runtime, cwd: project });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'clusterkit: Cannot open the log file /proc/ex.log for appending (ENOENT): its directory /proc exists, but no file can be created in it: it is on a read-only or special file system (such as /proc or /sys); give a path on an ordinary, writable file system.\n',
    );
  });
});
