/**
 * A tiny HTTP client for tests: one request, no keep-alive, with a deadline; a request still
 * open when its test ends is abandoned (see cleanup.ts).
 */
import http from 'node:http';
import { onCleanup } from './cleanup.js';

export function get(url: string, ms = 5_000, localAddress?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: ms, ...(localAddress ? { localAddress } : {}) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        release();
        resolve({ status: response.statusCode ?? 0, body });
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out after ${ms} ms`)));
    request.on('error', (error) => {
      release();
      reject(error);
    });
    const release = onCleanup(() => abandon(request));
  });
}

/**
 * Ends a request or socket a finished test left open, without reporting it: its promise stays
 * pending instead of rejecting inside the next test.
 */
export function abandon(stream: { removeAllListeners(event: string): unknown; on(event: string, listener: () => void): unknown; destroy(): void }): void {
  stream.removeAllListeners('error');
  stream.on('error', () => {});
  stream.destroy();
}

/**
 * One GET to 127.0.0.1:`port` without keep-alive: resolves with the status, or with the error's
 * code (`ECONNRESET`...) for a request cut off; never rejects.
 */
export function getStatus(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
