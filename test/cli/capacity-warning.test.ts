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
    const [line] = await run.waitFor(/[^\n]*Closed connection\(s\) that every worker of their port refused[^\n]*/);
    await closed;
    expect(line).toMatch(new RegExp(`^\\[mc\\] WARN Closed connection\\(s\\) that every worker of their port refused 16 times \\(1 on port ${port}; `));
    expect(line).toContain('Raise maxConnections, add workers, or have clients retry later. err=ERR_NO_WORKER_AVAILABLE');
    expect(run.output()).not.toMatch(/ERROR|primary error/);
    for (const socket of sockets.splice(0)) socket.destroy();
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
  });
});
