/**
 * node:cluster hands each connection the primary accepts to a worker, and closes its own copy
 * only when the worker acknowledges it. A worker that dies before acknowledging left that copy
 * open for good: a file descriptor in the primary, and a client waiting for an answer that never
 * came (src/primary/pool/handoff-guard.ts).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

/**
 * Connections this process holds as raw TCP handles: node:cluster's round-robin keeps the
 * primary's copy of an accepted connection as one (a client `net.Socket` is not counted).
 */
function rawTcpHandles(): number {
  return (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().filter((handle) => handle.constructor.name === 'TCP').length;
}

let client: net.Socket | undefined;

describe('a connection handed to a worker that dies before it takes it', () => {
  afterEach(() => {
    client?.destroy();
  });

  it('[H60] is closed by the primary once the worker is gone: no descriptor left open, the client is not left waiting', async () => {
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) } }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    // The worker's event loop stops: it can take no connection and acknowledge nothing.
    await expect(primary.send(worker!, 'blockSoon', { ms: -1 })).resolves.toBe('blocking');
    const before = rawTcpHandles();
    client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    let isClosed = false;
    client.once('close', () => (isClosed = true));
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // The primary accepted it (its copy is one more socket here) and handed it to the worker.
    await until(() => rawTcpHandles() > before, 30_000, 'the primary accepting the connection');
    const exit = onceEvent(primary, 'workerExit');
    process.kill(worker!.pid!, 'SIGKILL');
    await exit;
    await until(() => isClosed, 30_000, 'the client seeing its connection closed'); // before: never (the primary kept its copy open)
    await until(() => rawTcpHandles() <= before, 30_000, "the primary's copy closed");
  });
});
