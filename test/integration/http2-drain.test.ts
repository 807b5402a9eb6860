/**
 * HTTP/2 servers drain as HTTP/1 ones do: a session is told to go (GOAWAY) and its streams in
 * flight finish, instead of every session being held open to the deadline, destroyed, and
 * counted as a request cut off (an HTTP/2 server was drained as a plain TCP one: each open
 * session, idle or not, was "a request").
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';
import { kRepoRoot } from '../helpers/spawn.js';

/** A self-signed certificate for 127.0.0.1, for the TLS cases (`createSecureServer`). */
const kTlsDir = join(kRepoRoot, 'test/fixtures/tls');
type Transport = 'h2c' | 'tls';
const kTransports: Transport[] = ['h2c', 'tls'];
const env = (port: number, transport: Transport) => ({ PORT: String(port), ...(transport === 'tls' ? { TLS_DIR: kTlsDir } : {}) });

function connect(port: number, transport: Transport): Promise<http2.ClientHttp2Session> {
  const session =
    transport === 'tls' ? http2.connect(`https://127.0.0.1:${port}`, { ca: readFileSync(join(kTlsDir, 'cert.pem')) }) : http2.connect(`http://127.0.0.1:${port}`);
  onCleanup(() => session.destroy());
  // A GOAWAY or a reset is what the tests look at; an unheard 'error' would throw.
  session.on('error', () => {});
  return new Promise((resolve, reject) => {
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('HTTP/2 drain', () => {
  it.each(kTransports)('[H101] %s: a stop with one stream in flight and an idle session: GOAWAY to both, the stream answered, graceful, nothing cut', async (transport) => {
    const port = await freePort();
    const primary = testPrimary({ env: env(port, transport) }, 'workers/slow-http2.ts');
    const [worker] = await primary.start();
    const busy = await connect(port, transport);
    const idle = await connect(port, transport);
    const goaways = [busy, idle].map((session) => new Promise<void>((resolve) => session.once('goaway', () => resolve())));
    const arrived = record(primary, 'workerMessage');
    const response = get(busy, '/?ms=500');
    await until(() => arrived.events.length === 1, 20_000, 'the stream in flight');
    arrived.stop();
    const cut = record(primary, 'workerRequestsCut');
    // Before: both sessions stayed open to the worker's deadline, were destroyed there, and
    // counted as 2 requests cut off (the stream was reset): 'failed'.
    await expect(primary.stopWorker(worker!, { timeoutMs: 15_000 })).resolves.toBe('graceful');
    await expect(response).resolves.toEqual({ status: 200, body: String(worker!.pid) });
    await Promise.all(goaways);
    expect(cut.events).toEqual([]);
    cut.stop();
  });

  it.each(kTransports)('[H101] %s: a reload moves HTTP/2 clients: the old worker says GOAWAY, a new session reaches the replacement', async (transport) => {
    const port = await freePort();
    const primary = testPrimary({ env: env(port, transport) }, 'workers/slow-http2.ts');
    const [old] = await primary.start();
    const first = await connect(port, transport);
    await expect(get(first, '/')).resolves.toEqual({ status: 200, body: String(old!.pid) });
    const goaway = new Promise<void>((resolve) => first.once('goaway', () => resolve()));
    await primary.reload();
    await goaway;
    const [replacement] = primary.workers;
    expect(replacement!.pid).not.toBe(old!.pid);
    const second = await connect(port, transport);
    await expect(get(second, '/')).resolves.toEqual({ status: 200, body: String(replacement!.pid) });
  });
});
