/**
 * A primary out of file descriptors accepts a control connection only to drop it (libuv's EMFILE
 * fallback): `clusterkit list` used to take it for no cluster at all ("No cluster is running.",
 * exit 0) while the cluster ran. A socket some process listens on is a running cluster.
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';
import { occurrencesAfter } from './occurrences-after.js';

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
  it('[H68][H521] list and status say it is running but did not answer, and exit 1; once nobody listens, none is listed', async () => {
    const { runtime, frozen } = await frozenCluster();
    try {
      for (const args of [['list'], ['status'], ['list', '--json']]) {
        const result = await cli(args, { runtime });
        expect(result.code).toBe(1);
        expect(result.stdout).not.toContain('No cluster is running');
        expect(result.stderr).toMatch(/^clusterkit: cluster "frozen" is running \(a process listens on its control socket\) but did not answer "status": .*Its primary may be blocked, out of file descriptors, or exiting/);
      }
      // [H521] Listed as an entry that says it did not answer, not left out (`[]` read as "no clusters").
      expect(JSON.parse((await cli(['list', '--json'], { runtime })).stdout)).toMatchObject([{ name: 'frozen', state: 'unanswered', reason: 'closed' }]);
    } finally {
      await new Promise((resolve) => frozen.close(resolve));
    }
    // Nobody listens any more: nothing runs.
    const after = await cli(['list'], { runtime });
    expect(after).toMatchObject({ code: 0, stdout: expect.stringMatching(/^No cluster is running \(for this user; looked in [^\n]*\/clusterkit \(\$XDG_RUNTIME_DIR\/clusterkit\): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen\)\.\n$/), stderr: '' });
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

  it('[H80] status <name> --watch keeps watching it, naming the cluster (not its socket path), until Ctrl-C', async () => {
    const { runtime, frozen } = await frozenCluster();
    try {
      const watch = startCli(['status', 'frozen', '--watch', '--interval', '50ms'], { runtime });
      const line = /^clusterkit: cluster "frozen" is running \(a process listens on its control socket\) but did not answer "status": it closed the connection unanswered(?: \(E[A-Z]+\))?\. Its primary may be blocked, out of file descriptors, or exiting; try "clusterkit status frozen" again, and look at its logs\.$/gm;
      // Before: the first round ended the watch with exit 1 and the socket's path.
      await watch.waitFor(new RegExp(`(?:${line.source}[^]*){2}`, 'm'));
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
      // Every line of stderr is one whole message: none glued to another.
      expect(watch.stderr().split('\n').filter(Boolean).every((text) => new RegExp(line.source).test(text))).toBe(true);
      expect(watch.output()).not.toContain('.sock');
      expect(watch.stdout()).toBe('');
      // Once, without --watch: the same words, exit 1; --json prints the entry that says so (H521).
      for (const args of [['status', 'frozen'], ['status', 'frozen', '--json']]) {
        const once = await cli(args, { runtime });
        expect(once.code).toBe(1);
        if (args.includes('--json')) expect(JSON.parse(once.stdout)).toMatchObject({ name: 'frozen', state: 'unanswered', reason: 'closed' });
        else expect(once.stdout).toBe('');
        expect(once.stderr).toMatch(new RegExp(line.source, 'm'));
      }
    } finally {
      await new Promise((resolve) => frozen.close(resolve));
    }
  });

  it('[H80] a real primary stopped (SIGSTOP) under status <name> --watch: named each round, drawn again once it runs on', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'paused'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service paused started/);
    const pid = run.child.pid!;
    const watch = startCli(['status', 'paused', '--watch', '--interval', '50ms'], { runtime });
    try {
      await watch.waitFor(/cluster paused {2}pid/);
      process.kill(pid, 'SIGSTOP');
      // The 5 s a round waits for an answer, then the cluster named, and the watch goes on.
      await watch.waitFor(/clusterkit: cluster "paused" is running \(a process listens on its control socket\) but did not answer "status": no answer within 5000 ms\. /);
      const drawn = watch.output().length;
      process.kill(pid, 'SIGCONT');
      await watch.waitFor(occurrencesAfter(drawn, 'cluster paused  pid', 1));
      expect(watch.child.exitCode).toBeNull();
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
      expect(watch.stderr()).not.toContain('.sock');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await cli(['stop', 'paused'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H89] a primary stopped (SIGSTOP) beside a healthy cluster: status --watch draws the healthy one every round, before and after the stopped one times out', async () => {
    const runtime = runtimeDir();
    const frozen = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'frozen'], { runtime, env: { PORT: String(await freePort()) } });
    const web = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'web'], { runtime, env: { PORT: String(await freePort()) } });
    await Promise.all([frozen.waitFor(/service frozen started/), web.waitFor(/service web started/)]);
    const pid = frozen.child.pid!;
    process.kill(pid, 'SIGSTOP');
    const watch = startCli(['status', '--watch', '--interval', '50ms'], { runtime });
    try {
      const waiting = /clusterkit: cluster "frozen" is running \(a process listens on its control socket\) but did not answer "status": no answer yet; still waiting, up to 5000 ms\. /;
      const silent = /clusterkit: cluster "frozen" is running \(a process listens on its control socket\) but did not answer "status": no answer within 5000 ms; still silent, asked again every 10 s\. Its primary \(pid \d+\) is stopped \(kill -STOP or a debugger; kill -CONT \d+ resumes it\)/;
      // While its ask is out, frames go on: web drawn in three of them, frozen named as not answered yet.
      await watch.waitFor(occurrencesAfter(0, 'cluster web  pid', 3));
      expect(watch.stderr()).toMatch(waiting);
      expect(watch.stderr()).not.toMatch(silent);
      // Once it timed out it is carried over: ten more frames at the interval, never one per 5 s
      // as before (each round waited the full 5 s for it).
      await watch.waitFor(silent);
      await watch.waitFor(occurrencesAfter(watch.output().length, 'cluster web  pid', 10), 20_000);
      expect(watch.stdout()).not.toMatch(/cluster frozen {2}pid/);
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (const name of ['frozen', 'web']) expect((await cli(['stop', name], { runtime })).code).toBe(0);
    await expect(frozen.exited()).resolves.toBe(0);
    await expect(web.exited()).resolves.toBe(0);
  });

  it('[H89] a healthy cluster stopped (SIGSTOP) under status --watch: drawn from its last status while its ask is out, named still silent once the ask timed out, drawn again once it runs on', async () => {
    const runtime = runtimeDir();
    const web = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'web'], { runtime, env: { PORT: String(await freePort()) } });
    await web.waitFor(/service web started/);
    const pid = web.child.pid!;
    const watch = startCli(['status', '--watch', '--interval', '50ms'], { runtime });
    try {
      await watch.waitFor(/^cluster web {2}pid/m);
      const answeredOnce = watch.stderr().length;
      process.kill(pid, 'SIGSTOP');
      const stoppedAt = watch.output().length;
      const silent = /clusterkit: cluster "web" is running \(a process listens on its control socket\) but did not answer "status": no answer within 5000 ms; still silent, asked again every 10 s\. /;
      const timedOut = await watch.waitFor(silent);
      // For the 5 s its ask was out, frames went on drawing its last status. Before, each frame
      // drawn while an ask was out hid it as "no answer yet": a primary that takes more than the
      // frame's 1 s to answer (a busy machine) was drawn in few frames, or none.
      expect(watch.output().slice(stoppedAt, timedOut.index)).toContain('cluster web  pid');
      expect(watch.stderr().slice(answeredOnce)).not.toMatch(/"web"[^\n]*no answer yet/);
      process.kill(pid, 'SIGCONT');
      await watch.waitFor(occurrencesAfter(watch.output().length, 'cluster web  pid', 1));
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await cli(['stop', 'web'], { runtime })).code).toBe(0);
    await expect(web.exited()).resolves.toBe(0);
  });
});

/** A listener that answers every connection with junk: `{` without end, or terminal escapes then close. */
async function junkSockets(): Promise<{ runtime: string; close: () => Promise<void> }> {
  const runtime = runtimeDir();
  const sockets = new Set<net.Socket>();
  const directory = join(runtime, 'clusterkit');
  mkdirSync(directory, { mode: 0o700 });
  const flood = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, '{');
    const pour = (): void => {
      while (!socket.destroyed && socket.write(chunk));
    };
    socket.on('drain', pour);
    pour();
  });
  const garbage = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.end('\x1b[2J\x1b]0;pwned\x07\x1b[31mjunk\x1b[0m\n\x1b[1;1Hmore junk');
  });
  const servers = [flood, garbage];
  await Promise.all(servers.map((server, index) => new Promise<void>((resolve) => server.listen(join(directory, `${['flood', 'garbage'][index]}.sock`), resolve))));
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  };
  return { runtime, close };
}

describe('a socket that answers with something else than the control protocol', () => {
  it('[H83] list, status and status --watch say so, in one line each, with ERR_CONTROL_SOCKET, and never echo what came', async () => {
    const { runtime, close } = await junkSockets();
    const line = (name: string) =>
      new RegExp(
        `^clusterkit: cluster "${name}" is running \\(a process listens on its control socket\\) but did not answer "status": it answered with something that is not the clusterkit control protocol \\(ERR_CONTROL_SOCKET\\): bytes that cannot begin an answer \\(clusterkit closed the connection at once\\)\\. The process listening on its socket may not be a clusterkit primary`,
        'm',
      );
    try {
      for (const args of [['list'], ['status'], ['status', 'flood'], ['status', 'garbage']]) {
        const result = await cli(args, { runtime });
        expect(result.code).toBe(1);
        for (const name of args.length === 2 ? [args[1]!] : ['flood', 'garbage']) expect(result.stderr).toMatch(line(name));
        expect(result.stderr).not.toContain('closed the connection unanswered');
        expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(args.length === 2 ? 1 : 2);
        expect(result.stdout + result.stderr).not.toMatch(/\x1b|junk|\{\{/);
      }
      const watch = startCli(['status', '--watch', '--interval', '50ms'], { runtime });
      await watch.waitFor(new RegExp(`(?:${line('flood').source}[^]*){2}`, 'm'));
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
      expect(watch.stderr()).toMatch(line('garbage'));
      expect(watch.output()).not.toMatch(/\x1b|junk|\{\{|No cluster is running/);
    } finally {
      await close();
    }
  });

  it('[H83] an answer without an id, and an endless JSON string: closed at their first bytes, said truthfully, never waited on', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    mkdirSync(directory, { mode: 0o700 });
    const sockets = new Set<net.Socket>();
    let poured = 0;
    let onPeerClosed: () => void = () => {};
    const closedByPeer = new Promise<void>((resolve) => (onPeerClosed = resolve));
    // Answers a line that is JSON but no control answer (no id), then holds the connection open:
    // before, the CLI waited its full 5 s for an answer with its id.
    const noId = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write('{"ok":true,"result":{"name":"evil","pid":1,"workers":[]}}\n');
    });
    // Streams one JSON string without end (`{"ok":true,"result":{"name":"AAAA...`).
    const endless = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => onPeerClosed());
      socket.write('{"ok":true,"result":{"name":"');
      const chunk = Buffer.alloc(64 * 1024, 'A');
      const pour = (): void => {
        while (!socket.destroyed && socket.write(chunk)) poured += chunk.length;
      };
      socket.on('drain', pour);
      pour();
    });
    const servers = [noId, endless];
    await Promise.all(servers.map((server, index) => new Promise<void>((resolve) => server.listen(join(directory, `${['no-id', 'endless'][index]}.sock`), resolve))));
    try {
      const result = await cli(['list'], { runtime });
      expect(result.code).toBe(1);
      for (const name of ['endless', 'no-id']) {
        expect(result.stderr).toMatch(
          new RegExp(`^clusterkit: cluster "${name}" is running \\(a process listens on its control socket\\) but did not answer "status": it answered with something that is not the clusterkit control protocol \\(ERR_CONTROL_SOCKET\\): bytes that cannot begin an answer \\(clusterkit closed the connection at once\\)\\. `, 'm'),
        );
      }
      expect(result.stderr).not.toMatch(/no answer within|closed the connection unanswered|evil/);
      // The CLI closed the endless stream itself, having read a few kernel buffers at most.
      await closedByPeer;
      expect(poured).toBeLessThan(16 * 1024 * 1024);
    } finally {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
