/**
 * [H225] `clusterkit logs`: a worker's stderr lines told apart from its stdout lines in line
 * mode (a mark in the text, which a pipe or `2>&1` keeps), and PM2's `--err` / `--out`.
 * [H362] `--json` says both where a line was written (`stream`) and where `logs` prints it, which
 * `run`'s file holds it (`output`).
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  cleanUpCli();
});

interface Entry {
  source: 'worker' | 'primary';
  stream: 'stdout' | 'stderr';
  output?: 'stdout' | 'stderr';
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

  // PM2 migrator t39 L4: `clusterkit logs nc-api --err --lines 3` of a cluster with no stderr line printed nothing at all.
  it('[H401] --err with no stderr line in the buffer: a one-line note on stderr says so, exit 0; --json prints none', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': "import http from 'node:http';\nhttp.createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');\n" });
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'quiet'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service quiet started/);
    expect(run.stderr()).not.toMatch(/ (WARN|ERROR) /);

    const err = await cli(['logs', 'quiet', '--err', '--lines', '3'], { runtime });
    expect(err).toEqual({
      code: 0,
      stdout: '',
      stderr:
        "clusterkit: no stderr line is in quiet's buffer (no worker wrote to stderr and the primary logged no warning or error, or they were among the oldest: the buffer keeps the last 2000 lines of the cluster); leave out --err for every line\n",
    });
    const slot = await cli(['logs', 'quiet', '--err', '--slot', '0'], { runtime });
    expect(slot).toMatchObject({ code: 0, stdout: '', stderr: expect.stringMatching(/^clusterkit: no stderr line of slot 0 is in quiet's buffer \(it printed none to stderr, or they were among the oldest/) });
    // --json stays a stream of objects only.
    expect(await cli(['logs', 'quiet', '--err', '--json'], { runtime })).toEqual({ code: 0, stdout: '', stderr: '' });
    // Lines on stdout: no note.
    const out = await cli(['logs', 'quiet', '--out', '--lines', '3'], { runtime });
    expect(out.stdout).toMatch(/service quiet started/);
    expect(out.stderr).toBe('');

    expect((await cli(['stop', 'quiet'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  // Ops t59: a crash's stack pushed out of the buffer by a chatty stdout was still in the -e file, unsaid.
  it('[H579] --err with no stderr line in the buffer names the error file that keeps them, when the cluster writes one', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': "import http from 'node:http';\nhttp.createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');\n" });
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'quietfile', '-e', 'err.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service quietfile started/);
    const err = await cli(['logs', 'quietfile', '--err', '--lines', '3'], { runtime });
    expect(err).toMatchObject({ code: 0, stdout: '' });
    expect(err.stderr).toMatch(/; leave out --err for every line; the cluster's error file keeps every such line: \/.*\/err\.log\n$/);
    expect(err.stderr).toContain(join(project, 'err.log'));
    expect((await cli(['stop', 'quietfile'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H362] --json: a primary\'s INFO line was written to stderr (stream) and is printed on stdout and held by the -o file (output); its WARN line has output stderr, as -e holds it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // process.send('ready') without --wait-ready: the primary WARNs once.
    const project = tempProject({
      'server.cjs': `
const http = require('node:http');
console.log('out at start');
console.error('err at start');
http.createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
`,
    });
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'truth', '-o', 'out.log', '-e', 'err.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service truth started/);
    await run.waitFor(/process\.send\('ready'\)/);
    await run.waitFor(/\[truth:1 err\] err at start/);
    const json = await cli(['logs', 'truth', '--json', '--lines', '100'], { runtime });
    const text = await cli(['logs', 'truth', '--lines', '100'], { runtime });
    expect((await cli(['stop', 'truth'], { runtime })).code).toBe(0);
    expect(await run.exited()).toBe(0);

    expect(json.code).toBe(0);
    const entries = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Entry);
    const find = (source: Entry['source'], pattern: RegExp) => entries.find((entry) => entry.source === source && pattern.test(entry.msg));
    // Where the line was written, and where logs prints it: both said.
    expect(find('primary', /^service truth started/)).toMatchObject({ stream: 'stderr', output: 'stdout', level: 30 });
    expect(find('primary', /process\.send\('ready'\)/)).toMatchObject({ stream: 'stderr', output: 'stderr', level: 40 });
    expect(find('worker', /^out at start$/)).toMatchObject({ stream: 'stdout', output: 'stdout' });
    expect(find('worker', /^err at start$/)).toMatchObject({ stream: 'stderr', output: 'stderr' });
    // The output is true: run's terminal had every line of the primary on stderr; logs prints
    // each on its output, and the file of that output holds it (the other file does not).
    const files = { stdout: readFileSync(join(project, 'out.log'), 'utf8'), stderr: readFileSync(join(project, 'err.log'), 'utf8') };
    for (const entry of entries.filter((line) => line.source === 'primary')) {
      expect(run.stderr()).toContain(entry.msg);
      const other = entry.output === 'stdout' ? 'stderr' : 'stdout';
      expect({ msg: entry.msg, printed: text[entry.output!].includes(`[truth] ${entry.msg}`), filed: files[entry.output!].includes(entry.msg), elsewhere: files[other].includes(entry.msg) }).toEqual({ msg: entry.msg, printed: true, filed: true, elsewhere: false });
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
