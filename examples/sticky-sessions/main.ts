/**
 * Sticky sessions: the primary accepts connections and hands each one to the worker chosen
 * for the client's address, so an in-memory session lives on one worker.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   PORT=3000 node --import tsx node_modules/clusterkit/examples/sticky-sessions/main.ts
 * In the clusterkit repository, after npm run build: PORT=3000 node --import tsx examples/sticky-sessions/main.ts
 *   curl http://127.0.0.1:3000/      # run it a few times: same worker, growing count
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import { ClusterPrimary, ClusterWorker } from 'clusterkit';

class SessionWorker extends ClusterWorker {
  /** Visits per client address: state that only works if a client always reaches us. */
  readonly #visits = new Map<string, number>();

  protected override async _init() {
    const server = http.createServer((request, response) => {
      const client = request.socket.remoteAddress ?? 'unknown';
      const visits = (this.#visits.get(client) ?? 0) + 1;
      this.#visits.set(client, visits);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ client, visits, worker: this.id, pid: process.pid }) + '\n');
    });
    this.serveSticky(server); // no listen(): the primary owns the port
  }
}

if (cluster.isPrimary) {
  const primary = new ClusterPrimary({ workerCount: Number(process.env.WORKERS ?? 3) });
  await primary.start();
  const { address } = await primary.listenSticky({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
  console.log(`sticky sessions on http://127.0.0.1:${address.port}/ (primary pid ${process.pid})`);
} else {
  await new SessionWorker().start();
}
