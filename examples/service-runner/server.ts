/**
 * The worker module of the service-runner example. It starts the service on import (an HTTP
 * server and a pretend database pool) and exports what must be cleaned up when a worker stops.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Stands in for a real connection pool: something that must be closed on shutdown. */
class Pool {
  #isOpen = true;
  // A pool keeps timers and sockets open; here, one keep-alive timer.
  readonly #keepAlive = setInterval(() => {}, 10_000);

  async query(sql: string): Promise<string> {
    if (!this.#isOpen) throw new Error('the pool is closed');
    return `result of ${sql}`;
  }

  async end(): Promise<void> {
    this.#isOpen = false;
    clearInterval(this.#keepAlive);
  }
}

export const pool = new Pool();

export const server = http.createServer(async (_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ pid: process.pid, answer: await pool.query('select 1') }));
});

server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');

/** The port it serves on, once listening. */
export function port(): number | undefined {
  return (server.address() as AddressInfo | null)?.port;
}
