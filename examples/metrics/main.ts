/**
 * Cluster-wide metrics: each worker counts its requests with prom-client; the primary merges
 * every worker's registry into one Prometheus exposition, with clusterkit's own figures.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit prom-client tsx
 *   node --import tsx node_modules/clusterkit/examples/metrics/main.ts
 * In the clusterkit repository, after npm run build: node --import tsx examples/metrics/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import client from 'prom-client';
import { ClusterPrimary, ClusterWorker, type WorkerHandlers } from 'clusterkit';

interface ToWorker {
  handle: { payload: { route: string }; reply: void };
}

const handled = new client.Counter({ name: 'app_jobs_total', help: 'Jobs handled.', labelNames: ['route'] });

class MetricsWorker extends ClusterWorker<ToWorker> implements WorkerHandlers<ToWorker> {
  _onMessage_handle({ route }: { route: string }) {
    handled.inc({ route });
  }
}

if (cluster.isPrimary) {
  const primary = new ClusterPrimary<ToWorker>({ workerCount: 2, logger: false });
  await primary.start();
  for (let i = 0; i < 10; i++) await primary.send(primary.roundRobin(), 'handle', { route: i % 3 === 0 ? '/export' : '/search' });
  const text = await primary.metrics();
  console.log(text.split('\n').filter((line) => line.startsWith('app_jobs_total') || line.startsWith('clusterkit_workers{')).join('\n'));
  await primary.shutdown();
} else {
  await new MetricsWorker().start();
}
