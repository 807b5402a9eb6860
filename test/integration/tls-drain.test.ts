/**
 * HTTPS servers drain as HTTP ones do. A TLS server's requests come on the TLS socket of its
 * 'secureConnection'; tracking the raw socket of 'connection' beneath (as before) left idle
 * keep-alive connections open through the drain to their keep-alive timeout, or the deadline,
 * where each that had ever sent bytes counted as a request cut off (a retest: HTTPS idle
 * connections closed at 6 and 8 s against 2 s for HTTP).
 */
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { record } from '../helpers/wait.js';

const kTlsDir = join(kRepoRoot, 'test/fixtures/tls');

function get(agent: https.Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path, agent, ca: readFileSync(join(kTlsDir, 'cert.pem')) }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('HTTPS drain', () => {
  it('[H105] a stop with an idle HTTPS keep-alive connection: closed by the drain, graceful, nothing cut', async () => {
    const port = await freePort();
    // The worker's keep-alive is 120 s: only the drain can close the connection in time.
    const primary = testPrimary({ env: { PORT: String(port), TLS_DIR: kTlsDir } }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    await expect(get(agent, port, '/')).resolves.toEqual({ status: 200, body: String(worker!.pid) });
    const socket = Object.values(agent.freeSockets).flat()[0]!;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const cut = record(primary, 'workerRequestsCut');
    // Before: the connection stayed to the worker's deadline (15 s of 20), was destroyed there
    // and counted as a request cut off: 'failed'.
    await expect(primary.stopWorker(worker!, { timeoutMs: 20_000 })).resolves.toBe('graceful');
    await closed;
    expect(cut.events).toEqual([]);
    cut.stop();
  });
});
