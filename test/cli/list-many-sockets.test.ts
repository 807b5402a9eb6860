/**
 * F3: `clusterkit list` and `status --watch` connected to every socket of the control directory
 * at once, so with about 1 000 sockets the CLI ran out of file descriptors itself (EMFILE) and
 * said a healthy cluster "did not answer ... its primary may be ... out of file descriptors".
 * A survey now keeps at most 32 connections open, starts none once its time is up (naming the
 * sockets it did not ask as such), and an EMFILE of its own is its own, never the cluster's.
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnNode } from '../helpers/spawn.js';
import { cleanUpCli, cli, kCliPath, runtimeDir, startCli } from './cli-process.js';
import { occurrencesAfter } from './occurrences-after.js';

afterEach(() => cleanUpCli());

/**
 * `count` listening sockets named `<prefix>-NNN` in the control directory of `runtime`: `closing`
 * ones accept and close at once (a primary out of descriptors), `silent` ones accept and never answer.
 */
async function listeners(runtime: string, prefix: string, count: number, kind: 'closing' | 'silent'): Promise<() => Promise<void>> {
  const directory = join(runtime, 'clusterkit');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const held = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const close = async (): Promise<void> => {
    for (const socket of held) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  };
  try {
    for (let index = 0; index < count; index++) {
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        if (kind === 'closing') {
          socket.destroy();
          return;
        }
        held.add(socket);
        socket.once('close', () => held.delete(socket));
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(join(directory, `${prefix}-${String(index).padStart(3, '0')}.sock`), resolve);
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return close;
}

/** `clusterkit <args>` run to its end in a shell that first lowers the descriptor limit to `fds`. */
async function cliWithFdLimit(args: string[], runtime: string, fds: number): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = spawnNode(['-c', `ulimit -n ${fds} && exec "$0" "$@"`, process.execPath, kCliPath, ...args], {
    executable: '/bin/sh',
    env: { NODE_ENV: 'production', XDG_RUNTIME_DIR: runtime },
    detached: true,
    label: `ulimit -n ${fds}; clusterkit ${args.join(' ')}`,
  });
  const code = await run.exited();
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * `count` listeners of `kind` (see `listeners`) named `<prefix>-NNN` and a real cluster `zz-real`,
 * named to sort after them, in a fresh runtime directory: runs `body`, then stops the cluster.
 * The listeners are closed even when it fails (`cleanUpCli` kills the cluster then).
 */
async function withRealClusterAfter(prefix: string, count: number, kind: 'closing' | 'silent', body: (runtime: string, run: Spawned) => Promise<void>): Promise<void> {
  const runtime = runtimeDir();
  const close = await listeners(runtime, prefix, count, kind);
  try {
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'zz-real'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service zz-real started/);
    await body(runtime, run);
    expect((await cli(['stop', 'zz-real'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  } finally {
    await close();
  }
}

/** The folded line of a watch's round for the 32 silent sockets that got the full ask (H89). */
const kFolded32 =
  /^clusterkit: 32 clusters are running \(a process listens on their control sockets\) but did not answer "status" \(no answer within 5000 ms; still silent, asked again every 10 s\): silent-000, silent-001, .* and 22 more\. /m;

/**
 * A frozen socket (it accepts and closes) that was asked: its close came, or, when this test's
 * own process (which holds the 300 listeners) was too busy to close in time on a loaded machine,
 * the ask timed out, in full or the short ask. Either way tried: never "did not ask" (H90).
 */
const kAskedFrozen =
  /^clusterkit: cluster "frozen-\d{3}" is running \(a process listens on its control socket\) but did not answer "status": (it closed the connection unanswered|no answer within \d+ ms)/;

describe('a control directory holding many sockets', () => {
  it('[H84][H90] list and status under `ulimit -n 256` with 300 sockets, list under `ulimit -n 20`: the real cluster is listed running, no EMFILE blamed on a cluster, every name tried', async () => {
    // Named to sort last: asked last, zz-real was the one whose connection met EMFILE.
    await withRealClusterAfter('frozen', 300, 'closing', async (runtime) => {
      for (const args of [['list'], ['status']]) {
        const result = await cliWithFdLimit(args, runtime, 256);
        // The 300 that close unanswered make the list incomplete: exit 1, each named in its own line.
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(args[0] === 'list' ? /^zz-real +\d+ +running +1\/1 /m : /^cluster zz-real {2}pid \d+/m);
        expect(result.stderr).not.toContain('zz-real');
        expect(result.stdout + result.stderr).not.toMatch(/EMFILE|ENFILE|out of file descriptors \(/);
        const lines = result.stderr.split('\n').filter(Boolean);
        expect(lines).toHaveLength(300);
        expect(lines.filter((line) => !kAskedFrozen.test(line))).toEqual([]);
      }
      // With 20 descriptors even 32 connections are too many. Each connection the CLI could not
      // open is tried again once another closes (H90): every name is asked, zz-real listed.
      // Before, every name after the first EMFILE was reported EMFILE without being tried.
      const starved = await cliWithFdLimit(['list'], runtime, 20);
      expect(starved.code).toBe(1);
      expect(starved.stdout).toMatch(/^zz-real +\d+ +running +1\/1 /m);
      const starvedLines = starved.stderr.split('\n').filter(Boolean);
      expect(starvedLines).toHaveLength(300);
      expect(starvedLines.filter((line) => !kAskedFrozen.test(line))).toEqual([]);
      expect(starved.stderr).not.toMatch(/EMFILE/);
    });
  });

  it('[H84][H89] 40 silent sockets and a real cluster sorted after them: list asks the last ones briefly once 5 s are up, and lists the real one', async () => {
    await withRealClusterAfter('silent', 40, 'silent', async (runtime) => {
      const result = await cli(['list'], { runtime });
      expect(result.code).toBe(1);
      // Before: zz-real "not asked", stdout empty.
      expect(result.stdout).toMatch(/^zz-real +\d+ +running +1\/1 /m);
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(40);
      const timedOut = lines.filter((line) => /^clusterkit: cluster "silent-\d{3}" is running \(a process listens on its control socket\) but did not answer "status": no answer within 5000 ms\. /.test(line));
      const brief = lines.filter((line) =>
        /^clusterkit: cluster "silent-\d{3}" is running \(a process listens on its control socket\) but did not answer "status": no answer within 300 ms, the short ask a survey gives once its first 5000 ms are spent on sockets that answered slowly\. /.test(line),
      );
      expect([timedOut.length, brief.length]).toEqual([32, 8]);
      // In name order: the first 32 got the full ask.
      expect(brief.map((line) => /"(silent-\d{3})"/.exec(line)![1])).toEqual(Array.from({ length: 8 }, (_, index) => `silent-${String(32 + index).padStart(3, '0')}`));
    });
  });

  it('[H89] status --watch with 40 silent sockets before a real cluster: the real one drawn every round once they are carried over as still silent, the lines folded', async () => {
    await withRealClusterAfter('silent', 40, 'silent', async (runtime) => {
      const watch = startCli(['status', '--watch', '--interval', '50ms'], { runtime });
      await watch.waitFor(kFolded32);
      // Once carried over, no round waits on them: ten more frames come, each within the 1 s a
      // frame waits at most (before, zz-real, sorted after 32 silent sockets, was never asked,
      // and each round waited 5 s). 45 s: the bound of a loaded machine, still under those 50 s.
      await watch.waitFor(occurrencesAfter(watch.output().length, 'cluster zz-real  pid', 10), 45_000);
      watch.child.kill('SIGINT');
      await expect(watch.exited()).resolves.toBe(0);
      // Every silent socket named in each round, in a few folded lines: never one line per socket.
      expect(watch.stderr()).not.toMatch(/cluster "silent-/);
      // zz-real named only as it should be before its first answer: its ask still out ("no answer
      // yet", named once the 32 went silent and left it in a group of 9, for as long as a loaded
      // machine's primary takes to answer), or its short ask missed (asked in full next round).
      // Never as silent, and never by a frame drawn after Ctrl-C ended its ask ("did not ask").
      const namingReal = watch.stderr().split('\n').filter((line) => line.includes('zz-real'));
      expect(namingReal.filter((line) => !/\((no answer yet; still waiting|no answer within 300 ms, the short ask )/.test(line))).toEqual([]);
    });
  });

  it('[H89] status --watch, the real cluster behind 40 silent sockets stopped (SIGSTOP) through its short ask: asked in full next round, never carried over as silent on 300 ms, drawn again once it runs on', async () => {
    await withRealClusterAfter('silent', 40, 'silent', async (runtime, run) => {
      const pid = run.child.pid!;
      process.kill(pid, 'SIGSTOP');
      try {
        const watch = startCli(['status', '--watch', '--interval', '50ms'], { runtime });
        // Once the 32 full asks timed out, zz-real and the last 8 got the 300 ms short ask, which
        // a stopped primary (or a busy one on a loaded machine) misses. Before, that carried it
        // over as still silent for 10 s, and again each time it got only the short ask.
        const restedOnShortAsk = /^clusterkit: [^\n]*\(no answer within 300 ms, the short ask [^\n]*; still silent[^\n]*zz-real/m;
        const askedInFull = /^clusterkit: 41 clusters are running \(a process listens on their control sockets\) but did not answer "status" \(no answer within 5000 ms; still silent, asked again every 10 s\)/m;
        await watch.waitFor(kFolded32);
        const seen = await watch.waitFor(new RegExp(`${restedOnShortAsk.source}|${askedInFull.source}`, 'm'));
        expect(seen[0]).toMatch(askedInFull);
        process.kill(pid, 'SIGCONT');
        // Asked again with the silent ones, in a survey of their own that no frame waits for.
        await watch.waitFor(/^cluster zz-real {2}pid/m);
        watch.child.kill('SIGINT');
        await expect(watch.exited()).resolves.toBe(0);
        expect(watch.stderr()).not.toMatch(restedOnShortAsk);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    });
  });
});
