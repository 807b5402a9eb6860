/**
 * The task-dispatch example: the primary hands tasks to workers in round-robin order and
 * collects the replies, then shuts the cluster down.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   node --import tsx node_modules/clusterkit/examples/task-dispatch/main.ts
 * In the clusterkit repository, after npm run build: node --import tsx examples/task-dispatch/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { ClusterPrimary, ClusterWorker, RemoteError, type WorkerHandlers } from 'clusterkit';

interface ToWorker {
  /** Hash `input` `rounds` times; reply with the hex digest. */
  hash: { payload: { input: string; rounds: number }; reply: { digest: string; pid: number } };
}

class HashWorker extends ClusterWorker<ToWorker> implements WorkerHandlers<ToWorker> {
  _onMessage_hash({ input, rounds }: { input: string; rounds: number }) {
    if (rounds < 1) throw new RangeError('rounds must be at least 1');
    let digest = input;
    for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest('hex');
    return { digest, pid: process.pid };
  }
}

if (cluster.isPrimary) {
  // One file holds both sides: workerScript defaults to this script.
  const primary = new ClusterPrimary<ToWorker>({ workerCount: Number(process.env.WORKERS ?? 2), logger: false });
  await primary.start();
  const tasks = Array.from({ length: 12 }, (_, index) => ({ input: `task-${index}`, rounds: 2_000 }));
  const results = await Promise.all(tasks.map((task) => primary.send(primary.roundRobin({ tag: 'hash' }), 'hash', task)));
  const perWorker = new Map<number, number>();
  for (const { pid } of results) perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
  console.log(`${results.length} tasks done:`, Object.fromEntries(perWorker));
  console.log(`first digest: ${results[0]!.digest.slice(0, 16)}...`);
  try {
    await primary.send(primary.roundRobin(), 'hash', { input: 'x', rounds: 0 });
  } catch (error) {
    if (error instanceof RemoteError) console.log(`a failing task rejects with ${error.name} (${error.remoteName}: ${error.remoteMessage})`);
  }
  await primary.shutdown();
} else {
  await new HashWorker().start();
}
