/**
 * A primary frozen (SIGSTOP), then SIGKILLed, drops the control connections it had not answered:
 * `stop`, `status <name>` and `logs` said "its primary may be exiting" while the lock beside the
 * socket named a dead process, and `reload` at the same moment said the cluster was not running.
 * A drop whose primary is gone is said as a refused connection is: not running, the pid of its
 * last primary, exit 4 (H450). Here the socket's listener drops every connection unanswered and
 * the lock names a pid that has exited; a live listener with no lock keeps today's words.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir } from './cli-process.js';

afterEach(() => cleanUpCli());

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('a control connection dropped unanswered', () => {
  it('[H450] its primary gone (the lock names a dead pid): stop, status <name>, logs and scale say not running, with that pid, exit 4', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    mkdirSync(directory, { mode: 0o700 });
    const pid = await deadPid();
    writeFileSync(join(directory, 'rt-k.lock'), `${pid}\n`, { mode: 0o600 });
    // What a dying primary's socket does: it takes the connection, then drops it unanswered.
    const dropping = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(join(directory, 'rt-k.sock'), resolve));
    try {
      for (const args of [['stop', 'rt-k'], ['status', 'rt-k'], ['logs', 'rt-k'], ['scale', 'rt-k', '3']]) {
        const result = await cli(args, { runtime });
        expect([args, result.stderr]).toEqual([args, expect.stringContaining(`No cluster named "rt-k" is running. Its last primary (pid ${pid}) ended without stopping (killed or crashed)`)]);
        expect(result.stderr).not.toMatch(/may be exiting|closed the connection unanswered|dropped the control connection/);
        expect([args, result.code]).toEqual([args, 4]);
      }
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });

  it('[H450] its primary alive (no lock of a dead pid): the words stay that it dropped the connection', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    mkdirSync(directory, { mode: 0o700 });
    const dropping = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(join(directory, 'rt-l.sock'), resolve));
    try {
      const status = await cli(['status', 'rt-l'], { runtime });
      expect(status.code).toBe(1);
      expect(status.stderr).toMatch(/did not answer "status": it closed the connection unanswered/);
      const stop = await cli(['stop', 'rt-l'], { runtime });
      expect(stop.code).not.toBe(4);
      expect(stop.stderr).toMatch(/(dropped|closed) the control connection before it answered "stop"/);
      expect(stop.stderr).not.toContain('ended without stopping');
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });
});
