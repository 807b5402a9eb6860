/**
 * [H225] `clusterkit logs`: a worker's stderr lines told apart from its stdout lines in line
 * mode (a mark in the text, which a pipe or `2>&1` keeps), and PM2's `--err` / `--out`.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  cleanUpCli();
});

interface Entry {
  source: 'worker' | 'primary';
  stream: 'stdout' | 'stderr';
  level: number;
  msg: string;
}

describe('clusterkit logs: stdout and stderr', () => {
  // Before: `[apart:1] warming up on stderr`, as a stdout line is shown (newcomer t24), and
  // --err / --out were unknown options.
  it('[H225] marks a worker\'s stderr lines [name:id err], and keeps one output with --err or --out, counted by --lines, followed too', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-log-writer.mjs', '-w', '1', '--name', 'apart'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service apart started/);

    const all = await cli(['logs', 'apart', '--lines', '100'], { runtime });
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('[apart:1 err] warming up on stderr\n');
    expect(all.stdout).toContain('[apart:1] listening\n');
    expect(all.stdout).not.toContain(' err]');

    // --err: the workers' stderr and the primary's warnings; --lines counts those lines alone.
    const err = await cli(['logs', 'apart', '--err', '--lines', '1'], { runtime });
    expect(err).toEqual({ code: 0, stdout: '', stderr: '[apart:1 err] warming up on stderr\n' });
    const out = await cli(['logs', 'apart', '--out', '--lines', '100'], { runtime });
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toContain('[apart:1] listening\n');
    expect(out.stdout).toMatch(/^\[apart\] worker 1 ready /m);
    const json = await cli(['logs', 'apart', '--err', '--json', '--lines', '100'], { runtime });
    const entries = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Entry);
    expect(entries.map((entry) => [entry.source, entry.stream, entry.msg])).toEqual([['worker', 'stderr', 'warming up on stderr']]);
    expect(await cli(['logs', 'apart', '--err', '--out'], { runtime })).toMatchObject({ code: 2, stderr: expect.stringContaining('--err and --out cannot be used together') });

    // Followed: a stdout line said before the stderr one is not shown.
    const follow = startCli(['logs', 'apart', '--follow', '--err', '--lines', '1'], { runtime });
    try {
      // The last buffered line arrives first: from then on, the reader follows.
      await follow.waitFor(/warming up on stderr\n/);
      await get(`http://127.0.0.1:${port}/say?text=hidden`);
      await get(`http://127.0.0.1:${port}/say?text=shown&to=err`);
      await follow.waitFor(/\[apart:1 err\] said shown\n/);
      await run.waitFor(/\[apart:1 err\] said shown\n/);
      expect(follow.output()).not.toContain('hidden');
      expect((await cli(['stop', 'apart'], { runtime })).code).toBe(0);
      await expect(follow.exited()).resolves.toBe(0);
      await expect(run.exited()).resolves.toBe(0);
    } finally {
      cleanUpCli();
    }
  });

  it('[H225] filters here when the primary runs an older clusterkit, which refuses "output"', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    mkdirSync(directory, { mode: 0o700 });
    chmodSync(directory, 0o700);
    const asked: unknown[] = [];
    const lines = [
      { time: 1, source: 'worker', workerId: 1, slot: 0, stream: 'stdout', level: 30, msg: 'to stdout' },
      { time: 2, source: 'worker', workerId: 1, slot: 0, stream: 'stderr', level: 50, msg: 'to stderr' },
      { time: 3, source: 'primary', workerId: 1, slot: 0, stream: 'stderr', level: 30, msg: 'worker 1 ready' },
    ];
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        const request = JSON.parse(chunk.toString().split('\n')[0]!) as { id: number; output?: string };
        asked.push(request);
        if (request.output !== undefined) {
          const message = '"logs" does not take "output": it takes "lines", "follow", "workerId", "slot" (besides "id" and "command").';
          return void socket.end(`${JSON.stringify({ id: request.id, ok: false, error: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message } })}\n`);
        }
        socket.end(`${lines.map((log) => JSON.stringify({ id: request.id, log })).join('\n')}\n${JSON.stringify({ id: request.id, ok: true, result: { lines: lines.length, follow: false } })}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(join(directory, 'old.sock'), resolve));
    closers.push(() => server.close());
    expect(await cli(['logs', 'old', '--err'], { runtime })).toEqual({ code: 0, stdout: '', stderr: '[old:1 err] to stderr\n' });
    expect(await cli(['logs', 'old', '--out'], { runtime })).toEqual({ code: 0, stdout: '[old:1] to stdout\n[old] worker 1 ready\n', stderr: '' });
    expect(asked).toEqual([
      { id: 1, command: 'logs', lines: 15, follow: false, output: 'stderr' },
      { id: 1, command: 'logs', lines: 15, follow: false },
      { id: 1, command: 'logs', lines: 15, follow: false, output: 'stdout' },
      { id: 1, command: 'logs', lines: 15, follow: false },
    ]);
  });
});
