/**
 * A service ready for Kubernetes: one primary per pod, one worker per CPU of the container's
 * limit, probes and metrics on a separate port, graceful shutdown on SIGTERM.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit prom-client tsx
 *   PORT=8080 HEALTH_PORT=9090 node --import tsx node_modules/clusterkit/examples/kubernetes/server.ts
 * In the clusterkit repository, after npm run build: PORT=8080 HEALTH_PORT=9090 node --import tsx examples/kubernetes/server.ts
 *   curl http://127.0.0.1:9090/readyz
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import client from 'prom-client';
import { ClusterPrimary, ClusterWorker } from 'clusterkit';

const requests = new client.Counter({ name: 'http_requests_total', help: 'HTTP requests served.', labelNames: ['status'] });

class WebWorker extends ClusterWorker {
  readonly #server = this.trackServer(
    http.createServer((_request, response) => {
      requests.inc({ status: '200' });
      response.end(`hello from worker ${this.id}\n`);
    }),
  );

  protected override async _init() {
    await new Promise<void>((resolve) => this.#server.listen(Number(process.env.PORT ?? 8080), resolve));
  }
}

if (cluster.isPrimary) {
  const primary = new ClusterPrimary({
    workerCount: process.env.WORKERS ? Number(process.env.WORKERS) : 'auto', // the container's CPU limit
    shutdownTimeoutMs: 20_000, // keep terminationGracePeriodSeconds above this
  });
  const health = await primary.listenHealth({ port: Number(process.env.HEALTH_PORT ?? 9090), minReady: 1 });
  const workers = await primary.start();
  console.log(`${workers.length} workers serving :${process.env.PORT ?? 8080}; probes on :${health.address.port}`);
} else {
  await new WebWorker().start();
}
