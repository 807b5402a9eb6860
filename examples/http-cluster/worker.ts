/**
 * One HTTP server per worker, all on the same port (node:cluster shares it). Each request asks
 * the primary to count it and answers with the cluster-wide total.
 */
import http from 'node:http';
import { ClusterWorker, type WorkerHandlers } from 'clusterkit/worker';
import type { ToPrimary, ToWorker } from './messages.js';

class HttpWorker extends ClusterWorker<ToWorker, ToPrimary> implements WorkerHandlers<ToWorker> {
  #served = 0;
  readonly #server = this.trackServer(
    http.createServer(async (request, response) => {
      this.#served++;
      const total = await this.send('requestServed', { path: request.url ?? '/' });
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ worker: this.id, pid: process.pid, request: total }));
    }),
  );

  protected override async _init() {
    const port = Number(process.env.PORT ?? 3000);
    await new Promise<void>((resolve) => this.#server.listen(port, process.env.HOST ?? '127.0.0.1', resolve));
  }

  _onMessage_stats() {
    return { served: this.#served, pid: process.pid };
  }
}

await new HttpWorker().start();
