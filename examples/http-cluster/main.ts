/**
 * The http-cluster example.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   node --import tsx node_modules/clusterkit/examples/http-cluster/main.ts
 * In the clusterkit repository, after npm run build: node --import tsx examples/http-cluster/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 *
 * One primary, one worker per core, all serving one port; the primary counts requests through
 * messages. Ctrl-C (or SIGTERM) shuts down gracefully; SIGHUP reloads the workers one by one
 * without dropping a request.
 */
import { ClusterPrimary, type PrimaryHandlers, type WorkerHandle } from 'clusterkit';
import type { ToPrimary, ToWorker } from './messages.js';

class CountingPrimary extends ClusterPrimary<ToWorker, ToPrimary> implements PrimaryHandlers<ToPrimary> {
  #total = 0;

  _onMessage_requestServed(_payload: { path: string }, _worker: WorkerHandle) {
    return ++this.#total;
  }
}

const primary = new CountingPrimary({
  workerScript: new URL('./worker.ts', import.meta.url),
  workerCount: process.env.WORKERS ? Number(process.env.WORKERS) : 'auto',
  // On a reload, each old worker hands its keep-alive clients to the new one over 1 s, one
  // connection at a time (the default, spelled out here), so that the new worker, whose code is
  // not yet optimized, is not hit by all of them at once. 0 hands them over all at once.
  gradualDrainMs: 1_000,
});

let announced = false;
primary.on('workerListening', ({ address }) => {
  if (announced) return;
  announced = true;
  const { port } = address;
  console.log(`clusterkit demo listening on http://127.0.0.1:${port} (primary pid ${process.pid})`);
  console.log(`  try: curl http://127.0.0.1:${port}/   |   kill -HUP ${process.pid} (reload)   |   Ctrl-C (graceful stop)`);
});

const workers = await primary.start();
console.log(`${workers.length} workers ready: ${workers.map((worker) => worker.pid).join(', ')}`);
