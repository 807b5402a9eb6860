import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  cleanUpCli();
});

interface Entry {
  name: string;
  source: 'worker' | 'primary';
  workerId?: number;
  stream: 'stdout' | 'stderr';
  level: number;
  msg: string;
  partial?: boolean;
}

async function startWriter(name: string, workers: number) {
  const runtime = runtimeDir();
  const port = await freePort();
  const run = startCli(['run', 'test/fixtures/cli-log-writer.mjs', '-w', String(workers), '--name', name], { runtime, env: { PORT: String(port) } });
  await run.waitFor(new RegExp(`service ${name} started`));
  return { runtime, port, run };
}

describe('clusterkit logs', () => {
  it('prints the last lines (escaped, long lines in pieces), as JSON, per worker, then follows new lines until the cluster stops', async () => {
    const { runtime, port, run } = await startWriter('chatty', 2);
    // What the run terminal shows: every line prefixed, the 40 000 characters in 16 KiB pieces,
    // each continued by the next marked " [...]".
    await run.waitFor(/(\[chatty:1\] x{16384} \[\.\.\.\]\n){2}\[chatty:1\] x{7232}\n/);

    const json = await cli(['logs', 'chatty', '--lines', '100', '--json'], { runtime });
    expect(json.code).toBe(0);
    const entries = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Entry);
    const first = entries.filter((entry) => entry.workerId === 1 && entry.source === 'worker');
    expect(first.map((entry) => [entry.stream, entry.level, entry.msg.length, entry.partial ?? false])).toEqual(
      expect.arrayContaining([
        ['stderr', 50, 'warming up on stderr'.length, false],
        ['stdout', 30, 16384, true],
        ['stdout', 30, 16384, true],
        ['stdout', 30, 7232, false],
      ]),
    );
    expect(first.find((entry) => entry.msg.startsWith('started'))?.msg).toBe('started \x1b]0;pwned\x07 \x1b[31mred\x1b[0m');
    // The primary's own lines are there too, tagged with the worker they are about.
    expect(entries).toContainEqual(expect.objectContaining({ name: 'chatty', source: 'primary', workerId: 2, level: 30, msg: expect.stringMatching(/^worker 2 ready workerId=2 workerPid=\d+/) }));

    // As text: prefixed like the run terminal, stdout and stderr apart, control characters escaped
    // (not a terminal: colors removed too), and only worker 2 with --worker 2.
    const text = await cli(['logs', 'chatty', '--lines', '100', '--worker', '2'], { runtime });
    expect(text.stdout).toContain('[chatty:2] started \\x1b]0;pwned\\x07 red\n');
    expect(text.stdout).not.toContain('\x1b');
    expect(text.stdout).not.toMatch(/\[chatty:1\]/);
    expect(text.stderr).toContain('[chatty:2] warming up on stderr\n');
    expect(text.stderr).toMatch(/^\[chatty\] worker 2 ready workerId=2/m);
    expect((await cli(['logs', 'chatty', '-n', '1'], { runtime })).stdout.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);

    // The last buffered line arrives first: from then on, the reader follows.
    const follow = startCli(['logs', 'chatty', '--follow', '--lines', '1'], { runtime });
    await follow.waitFor(/\n/);
    await get(`http://127.0.0.1:${port}/say?text=hello`);
    await follow.waitFor(/\[chatty:\d\] said hello\n/);
    expect((await cli(['stop', 'chatty'], { runtime })).code).toBe(0);
    await expect(follow.exited()).resolves.toBe(0);
    expect(follow.stderr()).toContain('clusterkit: cluster chatty stopped\n');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('drops lines for a reader that does not read, counts them and tells it, while the cluster serves on', async () => {
    const { runtime, port, run } = await startWriter('flood', 1);
    const socket = net.connect(join(runtime, 'clusterkit', 'flood.sock'));
    sockets.push(socket);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.write(`${JSON.stringify({ id: 7, command: 'logs', lines: 0, follow: true })}\n`);
    await until(() => received.includes('"ok":true'), 30_000, 'the logs request answered');
    // The reader stops reading; the worker writes 3 MB.
    socket.pause();
    await get(`http://127.0.0.1:${port}/flood?lines=3000`);
    await run.waitFor(/\[flood:1\] flood done/, 60_000);
    // The cluster is not held up by the reader.
    expect((await get(`http://127.0.0.1:${port}/`, 5_000)).status).toBe(200);
    socket.resume();
    await until(() => /"dropped":\d+/.test(received), 30_000, 'a dropped notice');
    const messages = received.trim().split('\n').map((line) => JSON.parse(line) as { id: number; dropped?: number; log?: Entry });
    const dropped = messages.reduce((sum, message) => sum + (message.dropped ?? 0), 0);
    const delivered = messages.filter((message) => message.log?.msg.startsWith('fff')).length;
    expect(messages.every((message) => message.id === 7)).toBe(true);
    expect(dropped).toBeGreaterThan(0);
    expect(delivered + dropped).toBeLessThanOrEqual(3000 + 2);
    expect(delivered).toBeLessThan(3000);
  });
});

