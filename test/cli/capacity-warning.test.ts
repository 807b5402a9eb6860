/**
 * A condition of the app's capacity, not a fault of the primary, is a warning in `clusterkit
 * run`'s log: connections every worker refused at `server.maxConnections` (H181) are told at
 * WARN, so that alerting on ERROR does not page for them (H213).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';

const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  cleanUpCli();
});

/** Holds every request, and takes one connection at a time. */
const kFullServer = `
const server = require('node:http').createServer(() => console.log('holding a request'));
server.maxConnections = 1;
server.listen(Number(process.env.PORT));
`;

function connect(port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  return socket;
}

describe('clusterkit run: connections refused at maxConnections', () => {
  it('[H213] are one WARN line naming the address, not "ERROR primary error:"', async () => {
    const port = await freePort();
    const run = startCli(['run', 'full.cjs', '-w', '1', '--name', 'mc', '--shutdown-timeout', '2s'], { runtime: runtimeDir(), cwd: tempProject({ 'full.cjs': kFullServer }), env: { PORT: String(port) } });
    await run.waitFor(/service mc started: 1 worker /);
    connect(port);
    await run.waitFor(/holding a request/);
    const refused = connect(port);
    const closed = new Promise((resolve) => refused.once('close', resolve));
    const [line] = await run.waitFor(/[^\n]*closed after every worker of its port refused it[^\n]*/);
    await closed;
    expect(line).toMatch(new RegExp(`^\\[mc\\] WARN 1 connection on port ${port} closed after every worker of its port refused it \\(16 attempts per connection; `));
    expect(line).toContain('Raise maxConnections, add workers, or have clients retry later. err=ERR_NO_WORKER_AVAILABLE');
    expect(run.output()).not.toMatch(/ERROR|primary error/);
    for (const socket of sockets.splice(0)) socket.destroy();
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
  });

  it('[H230][H240] the refusals held for the next 10 s summary are told when the cluster stops first, each counted once, as connections apart from attempts, with no "next 10 s" in that last line', async () => {
    const port = await freePort();
    const run = startCli(['run', 'full.cjs', '-w', '1', '--name', 'mc2', '--shutdown-timeout', '2s'], { runtime: runtimeDir(), cwd: tempProject({ 'full.cjs': kFullServer }), env: { PORT: String(port) } });
    await run.waitFor(/service mc2 started: 1 worker /);
    connect(port);
    await run.waitFor(/holding a request/);
    // Three refused: the first told at once, the other two held for the summary 10 s later.
    const refused = [connect(port), connect(port), connect(port)];
    await Promise.all(refused.map((socket) => new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)))));
    await run.waitFor(/WARN 1 connection on port \d+ closed after every worker/);
    for (const socket of sockets.splice(0)) socket.destroy();
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
    const lines = run.output().split('\n');
    const told = lines.filter((text) => text.includes('closed after every worker of'));
    // Before: the one line of the first; the two held were lost with the primary (newcomer t25: 3 refused, 1 told).
    const total = told.reduce((sum, text) => sum + Number(/WARN (\d+) connections? on/.exec(text)![1]), 0);
    expect(total).toBe(3);
    // Told at the end, it promises no next 10 s (H240): before, "...; more in the next 10 s are told together".
    expect(told[1]).toMatch(new RegExp(`WARN 2 connections on port ${port} closed after every worker of their port refused them \\(16 attempts per connection\\): `));
    expect(told[0]).toContain('; more in the next 10 s are told together): ');
    // Told before the end of the shutdown, not after.
    expect(lines.findIndex((text) => text === told.at(-1))).toBeLessThan(lines.findIndex((text) => text.includes('shutdown complete')));
  });
});
