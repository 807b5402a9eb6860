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

/** A fresh runtime directory and its control directory (made, 0700), as a primary makes it. */
function controlDirectory(): { runtime: string; directory: string } {
  const runtime = runtimeDir();
  const directory = join(runtime, 'clusterkit');
  mkdirSync(directory, { mode: 0o700 });
  return { runtime, directory };
}

/** Runs `body`, then closes `server`. */
async function closingAfter(server: net.Server, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('a control connection dropped unanswered', () => {
  it('[H450] its primary gone (the lock names a dead pid): stop, status <name>, logs and scale say not running, with that pid, exit 4', async () => {
    const { runtime, directory } = controlDirectory();
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
    const { runtime, directory } = controlDirectory();
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

/** A socket that acknowledges the request (`accepted`), as a primary does at once, then closes unanswered: a primary that exited or was killed after reading it. */
async function acknowledgingThenClosing(path: string): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end < 0) return;
      const request = JSON.parse(text.slice(0, end)) as { id: number; command: string; ack?: boolean };
      socket.end(request.ack === true ? `${JSON.stringify({ id: request.id, accepted: request.command })}\n` : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

describe('a control connection closed after the primary acknowledged the request', () => {
  it('[H458] its primary gone (the lock names a dead pid): stop says not running, with that pid, exit 4, not "not the clusterkit control protocol"', async () => {
    const { runtime, directory } = controlDirectory();
    const pid = await deadPid();
    writeFileSync(join(directory, 'rt-m.lock'), `${pid}\n`, { mode: 0o600 });
    const server = await acknowledgingThenClosing(join(directory, 'rt-m.sock'));
    await closingAfter(server, async () => {
      const stop = await cli(['stop', 'rt-m'], { runtime });
      // Before: `answered "stop" with bytes that hold no answer to it, which is not the clusterkit control protocol`, exit 1.
      expect(stop.stderr).not.toContain('not the clusterkit control protocol');
      expect(stop.stderr).toContain(`No cluster named "rt-m" is running. Its last primary (pid ${pid}) ended without stopping (killed or crashed)`);
      expect(stop.code).toBe(4);
    });
  });

  it('[H458] after a clean stop just recorded (a stop it joined ended the process before the answer): stop says already stopped, exit 0', async () => {
    const { runtime, directory } = controlDirectory();
    writeFileSync(join(directory, 'rt-n.stopped'), `${JSON.stringify({ pid: await deadPid(), at: Date.now() })}\n`, { mode: 0o600 });
    const server = await acknowledgingThenClosing(join(directory, 'rt-n.sock'));
    await closingAfter(server, async () => {
      const stop = await cli(['stop', 'rt-n'], { runtime });
      expect(stop.stderr).not.toContain('not the clusterkit control protocol');
      expect(stop.stdout).toMatch(/^rt-n was already stopped, .* ago: nothing to do\n$/);
      expect(stop.code).toBe(0);
    });
  });

  it('[H458] a stop record from the future is no record: a stop of a name not running exits 4', async () => {
    const { runtime, directory } = controlDirectory();
    writeFileSync(join(directory, 'rt-o.stopped'), `${JSON.stringify({ pid: 1, at: Date.now() + 3_600_000 })}\n`, { mode: 0o600 });
    const stop = await cli(['stop', 'rt-o'], { runtime });
    expect(stop.stdout).not.toContain('already stopped');
    expect(stop.code).toBe(4);
  });
});
