/**
 * `clusterkit stop|reload <name>` on a primary that does not read its control socket (its
 * process stopped by SIGSTOP): the command names it once on stderr after the 5 s `status` waits,
 * and waits on (H443); Ctrl-C says what becomes of the operation (H444). A primary acknowledges
 * a `stop`, `reload` or `scale` sent with `ack` before it runs it. Real processes; every stopped
 * primary is resumed (SIGCONT) after its test, whatever happened.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cluster, freeze, kStoppedWords } from './frozen-cluster.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());


describe('a primary that does not read the request', () => {
  it('[H443] stop names the stopped primary after 5 s and waits on; once resumed, the stop runs and says so', async () => {
    const { run, runtime, pid } = await cluster('frozen');
    const resume = freeze(pid);
    const stop = startCli(['stop', 'frozen'], { runtime });
    await stop.waitFor(/has not read the "stop" request/, 60_000);
    expect(stop.stderr()).toBe(
      `clusterkit: frozen's primary (pid ${pid}) has not read the "stop" request in 5.0 s: ${kStoppedWords(pid)}. ` +
        'Still waiting, with no time limit (a stop may take long); Ctrl-C ends the wait, not the stop: the primary runs it once it reads the request.\n',
    );
    expect(stop.child.exitCode).toBeNull();
    resume();
    await expect(stop.exited()).resolves.toBe(0);
    expect(stop.stderr()).toMatch(/\nclusterkit: frozen's primary read the "stop" after \d+\.\d s; it runs now\.\n$/);
    expect(stop.stdout()).toBe('stopped frozen: 1 worker stopped gracefully\n');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H443] reload on a stopped primary: not sent yet (its status is asked first), said after 5 s; once resumed, it reloads', async () => {
    const { run, runtime, pid } = await cluster('frozenr', ['--startup-window', '0']);
    const resume = freeze(pid);
    const reload = startCli(['reload', 'frozenr'], { runtime });
    await reload.waitFor(/has not answered in/, 60_000);
    expect(reload.stderr()).toBe(
      `clusterkit: frozenr's primary (pid ${pid}) has not answered in 5.0 s, so the "reload" is not sent yet: ${kStoppedWords(pid)}. ` +
        'Still waiting, with no time limit; Ctrl-C gives up, and nothing is asked of it.\n',
    );
    resume();
    await expect(reload.exited()).resolves.toBe(0);
    expect(reload.stdout()).toBe('reloaded frozenr: 1 worker replaced, no request cut off\n');
    expect((await cli(['stop', 'frozenr'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H443] the primary acknowledges a request with "ack" before its answer; one without it gets the answer alone', async () => {
    const { run, runtime } = await cluster('acked');
    const socket = `${runtime}/clusterkit/acked.sock`;
    const ask = (request: object) =>
      new Promise<string[]>((resolve, reject) => {
        const connection = net.connect(socket, () => connection.end(`${JSON.stringify(request)}\n`));
        let text = '';
        connection.on('data', (chunk: Buffer) => (text += chunk.toString()));
        connection.on('error', reject);
        connection.on('close', () => resolve(text.trimEnd().split('\n')));
      });
    const acked = await ask({ id: 7, command: 'scale', count: 1, ack: true });
    expect(acked).toHaveLength(2);
    expect(JSON.parse(acked[0]!)).toEqual({ id: 7, accepted: 'scale' });
    expect(JSON.parse(acked[1]!)).toMatchObject({ id: 7, ok: true });
    const plain = await ask({ id: 8, command: 'scale', count: 1 });
    expect(plain).toHaveLength(1);
    expect(JSON.parse(plain[0]!)).toMatchObject({ id: 8, ok: true });
    // Only the commands that may run long take it, and only as true or false.
    expect(JSON.parse((await ask({ id: 9, command: 'status', ack: true }))[0]!)).toMatchObject({ id: 9, ok: false, error: { message: '"status" does not take "ack": it takes no field but "id" and "command".' } });
    expect(JSON.parse((await ask({ id: 10, command: 'stop', ack: 1 }))[0]!)).toMatchObject({ id: 10, ok: false, error: { message: '"stop" needs an "ack" that is true or false. Received 1.' } });
    expect(run.child.exitCode).toBeNull();
    expect((await cli(['stop', 'acked'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H443] a primary of an older clusterkit refuses "ack" before it runs anything: the stop is sent again without it, and ends as before', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    mkdirSync(directory, { mode: 0o700 });
    // The old primary's words for a field it does not take; its answer to a stop, with a pid that is gone.
    const gonePid = spawnSync('true').pid;
    const requests: Array<Record<string, unknown>> = [];
    const older = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (chunk: Buffer) => {
        const request = JSON.parse(chunk.toString()) as Record<string, unknown>;
        requests.push(request);
        const answer =
          'ack' in request
            ? { id: request.id, ok: false, error: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message: '"stop" does not take "ack": it takes no field but "id" and "command".' } }
            : { id: request.id, ok: true, result: { graceful: 1, killed: 0, pid: gonePid } };
        socket.end(`${JSON.stringify(answer)}\n`);
      });
    });
    await new Promise<void>((resolve) => older.listen(join(directory, 'older.sock'), resolve));
    try {
      const stop = await cli(['stop', 'older'], { runtime });
      expect(stop).toEqual({ code: 0, stdout: 'stopped older: 1 worker stopped gracefully\n', stderr: '' });
      expect(requests).toEqual([
        { id: expect.any(Number), command: 'stop', ack: true },
        { id: expect.any(Number), command: 'stop' },
      ]);
    } finally {
      await new Promise((resolve) => older.close(resolve));
    }
  });
});

describe('Ctrl-C on a control command', () => {
  it('[H444] during a reload the primary runs: says the reload goes on there, and dies of SIGINT; the reload completes', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'goeson', '--startup-window', '3s'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service goeson started/);
    const reload = startCli(['reload', 'goeson'], { runtime });
    // A slot replaced: the primary took the reload (its acknowledgement came before).
    await reload.waitFor(/^slot \d: worker \d+ ready/m);
    reload.child.kill('SIGINT');
    await expect(reload.exited()).resolves.toBe('SIGINT');
    expect(reload.stderr()).toMatch(/\nclusterkit: stopped waiting \(SIGINT\); the reload goes on in goeson's primary; clusterkit status goeson shows it\.\n$/);
    await run.waitFor(/rolling reload complete/);
    expect((await cli(['stop', 'goeson'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H444] a stop sent to a stopped primary: says it was sent and runs once read; resumed, the primary stops', async () => {
    const { run, runtime, pid } = await cluster('sentonly');
    const resume = freeze(pid);
    const stop = startCli(['stop', 'sentonly'], { runtime });
    await stop.waitFor(/has not read the "stop" request/, 60_000);
    stop.child.kill('SIGTERM');
    await expect(stop.exited()).resolves.toBe('SIGTERM');
    expect(stop.stderr()).toMatch(
      /\nclusterkit: stopped waiting \(SIGTERM\); the "stop" request was sent, but sentonly's primary has not read it yet: it runs it once it reads it \(clusterkit status sentonly shows what it did\)\.\n$/,
    );
    resume();
    // As the line says: the stop was sent, and runs.
    await expect(run.exited()).resolves.toBe(0);
    expect(run.stderr()).toContain('shutting down: clusterkit stop asked for it');
  });

  it('[H444] a reload not sent yet (the primary stopped before its status answered): says nothing was asked; resumed, nothing is reloaded', async () => {
    const { run, runtime, pid } = await cluster('notsent');
    const resume = freeze(pid);
    const reload = startCli(['reload', 'notsent'], { runtime });
    await reload.waitFor(/has not answered in/, 60_000);
    reload.child.kill('SIGINT');
    await expect(reload.exited()).resolves.toBe('SIGINT');
    expect(reload.stderr()).toMatch(/\nclusterkit: stopped waiting \(SIGINT\); the "reload" was not sent: nothing was asked of notsent\.\n$/);
    resume();
    const status = await cli(['status', 'notsent'], { runtime });
    expect(status.code).toBe(0);
    expect(run.output()).not.toContain('rolling reload');
    expect((await cli(['stop', 'notsent'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
