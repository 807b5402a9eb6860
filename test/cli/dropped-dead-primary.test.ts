/**
 * A primary frozen (SIGSTOP), then SIGKILLed, drops the control connections it had not answered:
 * `stop`, `status <name>` and `logs` said "its primary may be exiting" while the lock beside the
 * socket named a dead process, and `reload` at the same moment said the cluster was not running.
 * A drop whose primary is gone is said as a refused connection is: not running, the pid of its
 * last primary, exit 4 (H450). Here the socket's listener drops every connection unanswered and
 * the lock names a pid that has exited; a live listener with no lock keeps today's words.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

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

/**
 * How many connections to the socket `path` its listener holds, accepted or still in its backlog
 * (a frozen primary accepts none): the server side of each names the path in /proc/net/unix, in
 * a state other than the listener's (01).
 */
function connectionsTo(path: string): number {
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(` ${path}`) && line.trim().split(/\s+/)[5] !== '01').length;
}

/** Resolves once `check()` holds, looked at every 20 ms; rejects after `ms` (a generous upper bound). */
async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a survey (list, status with no name) whose connection a dying primary dropped', () => {
  it('[H461] a real primary frozen (SIGSTOP) with list and status waiting on it, then kill -9: both say what they say of a primary killed plainly', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'rt-p'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service rt-p started/);
    const pid = run.child.pid!;
    const socket = join(runtime, 'clusterkit', 'rt-p.sock');
    process.kill(pid, 'SIGSTOP');
    onCleanup(() => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // killed below
      }
    });
    const before = connectionsTo(socket);
    const list = startCli(['list'], { runtime });
    const status = startCli(['status'], { runtime });
    // Both asked (the kernel took their connections; the frozen primary reads none), then killed:
    // the kernel resets the two connections.
    await until(() => connectionsTo(socket) >= before + 2, 'list and status to connect to the frozen primary');
    process.kill(pid, 'SIGKILL');
    const dropped = await Promise.all(
      [list, status].map(async (one) => ({ code: await one.exited(), stdout: one.stdout(), stderr: one.stderr() })),
    );
    // A primary killed plainly: its socket refuses the connection (what these two see now).
    const plain = [await cli(['list'], { runtime }), await cli(['status'], { runtime })];
    expect(plain.map(({ code, stderr }) => ({ code, stderr }))).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);
    // Before: `rt-p ... closed the connection unanswered (ECONNRESET)` on stderr, exit 1.
    expect(dropped).toEqual(plain);
    expect(dropped.map(({ stdout }) => stdout).join('')).not.toContain('rt-p');
  });
});
