/**
 * Named workers and worker-to-worker messages: one worker named "cache" owns a cache; two
 * "api" workers read and fill it with sendTo('cache', ...), relayed by the primary.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   node --import tsx node_modules/clusterkit/examples/worker-relay/main.ts
 * In the clusterkit repository, after npm run build: node --import tsx examples/worker-relay/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import { ClusterPrimary, ClusterWorker, NoWorkerAvailableError, type MessageContext, type WorkerHandlers } from 'clusterkit';

interface ToWorker {
  /** The cache: read a key. */
  cacheGet: { payload: { key: string }; reply: string | null };
  /** The cache: store a key. */
  cachePut: { payload: { key: string; value: string }; reply: void };
  /** An api worker: look up a user, through the cache. */
  lookup: { payload: { id: number }; reply: { user: string; cached: boolean | 'no cache'; servedBy: string } };
}

class AppWorker extends ClusterWorker<ToWorker> implements WorkerHandlers<ToWorker> {
  readonly #cache = new Map<string, string>();

  _onMessage_cacheGet({ key }: { key: string }, context: MessageContext) {
    const from = context.from === 'primary' ? 'primary' : (context.from.name ?? `worker ${context.from.workerId}`);
    console.log(`[cache] get ${key} from ${from}`);
    return this.#cache.get(key) ?? null;
  }

  _onMessage_cachePut({ key, value }: { key: string; value: string }) {
    this.#cache.set(key, value);
  }

  async _onMessage_lookup({ id }: { id: number }) {
    const key = `user:${id}`;
    const user = `User #${id}`; // pretend this came from a database
    try {
      const cached = await this.sendTo('cache', 'cacheGet', { key });
      if (cached !== null) return { user: cached, cached: true, servedBy: this.name ?? '?' };
      await this.sendTo('cache', 'cachePut', { key, value: user });
      return { user, cached: false, servedBy: this.name ?? '?' };
    } catch (error) {
      // No live worker named "cache": serve without it rather than fail.
      if (error instanceof NoWorkerAvailableError) return { user, cached: 'no cache' as const, servedBy: this.name ?? '?' };
      throw error;
    }
  }
}

if (cluster.isPrimary) {
  // Only named workers: the primary starts none of its own.
  const primary = new ClusterPrimary<ToWorker>({ workerCount: 0, logger: false });
  await primary.start();
  await primary.fork({ name: 'cache' });
  const [apiA] = await primary.fork({ name: 'api-a', roles: ['api'] });
  const [apiB] = await primary.fork({ name: 'api-b', roles: ['api'] });
  console.log('workers:', primary.workers.map((worker) => worker.name).join(', '));
  console.log('first lookup :', await primary.send(apiA!, 'lookup', { id: 7 }));
  console.log('second lookup:', await primary.send(apiB!, 'lookup', { id: 7 }));
  console.log('round-robin over the api role:', primary.roundRobin({ tag: 'lookups', role: 'api' }).name);
  await primary.stopWorker(primary.workerByName('cache')!);
  console.log('cache stopped :', await primary.send(apiA!, 'lookup', { id: 8 }));
  await primary.shutdown();
} else {
  await new AppWorker().start();
}
