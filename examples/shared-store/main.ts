/**
 * The shared store: four workers count page views in one key, atomically, watch a setting the
 * primary changes, and elect a leader that survives a SIGKILL.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   node --import tsx node_modules/clusterkit/examples/shared-store/main.ts
 * In the clusterkit repository, after npm run build: node --import tsx examples/shared-store/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import cluster from 'node:cluster';
import { ClusterPrimary, ClusterWorker, type StoreChange, type WorkerHandlers } from 'clusterkit';

interface ToWorker {
  /** Record `count` page views. */
  view: { payload: { count: number }; reply: number };
  /** The last value of "settings:theme" this worker was told about. */
  theme: { payload: void; reply: string | undefined };
  /** Whether this worker won the leader election. */
  isLeader: { payload: void; reply: boolean };
}

class StoreWorker extends ClusterWorker<ToWorker> implements WorkerHandlers<ToWorker> {
  #theme: string | undefined;
  #isLeader = false;
  /** The election in progress (or the last one): `isLeader` answers once it is decided. */
  #election: Promise<void> = Promise.resolve();

  protected override async _init() {
    this.#theme = await this.store.get<string>('settings:theme');
    await this.store.watch('settings:theme', ({ value }) => {
      this.#theme = value as string;
    });
    // Leader election (docs/shared-store.md): claim "leader" until this worker exits, and claim
    // it again whenever it is deleted, which happens when the leader exits, however it dies.
    await this.store.watch('leader', ({ deleted }) => {
      if (deleted) this.#elect().catch((error) => console.error('election failed', error));
    });
    await this.#elect();
  }

  #elect(): Promise<void> {
    this.#election = this.store.compareAndSet('leader', undefined, this.id, { ephemeral: true }).then((won) => {
      this.#isLeader = won;
    });
    return this.#election;
  }

  async _onMessage_view({ count }: { count: number }) {
    let total = 0;
    for (let i = 0; i < count; i++) total = await this.store.increment('views');
    return total;
  }

  _onMessage_theme() {
    return this.#theme;
  }

  // A question that arrives during an election waits for its outcome: the winner learns it
  // won only when the store's answer reaches it, which can be after the primary saw the change.
  async _onMessage_isLeader() {
    await this.#election;
    return this.#isLeader;
  }
}

if (cluster.isPrimary) {
  const primary = new ClusterPrimary<ToWorker>({ workerCount: 4, logger: false });
  primary.store.set('settings:theme', 'light');
  const workers = await primary.start();
  await Promise.all(workers.map((worker) => primary.send(worker, 'view', { count: 250 })));
  console.log(`views counted by 4 workers: ${primary.store.get('views')}`);
  const changed = new Promise((resolve) => primary.once('storeChange', resolve));
  primary.store.set('settings:theme', 'dark');
  await changed;
  // No wait for the watchers: each worker's change notice was written to its channel as the
  // value was set, before the question below, and a channel delivers in order.
  const themes = await Promise.all(workers.map((worker) => primary.send(worker, 'theme')));
  console.log(`theme seen by the workers: ${[...new Set(themes)].join(', ')}`);

  // Kill the leader without warning: the others elect a new one.
  const leader = primary.store.get('leader') as number;
  console.log(`leader: worker ${leader}`);
  const elected = new Promise<StoreChange>((resolve) => {
    const onChange = (change: StoreChange) => {
      if (change.key !== 'leader' || change.deleted) return;
      primary.off('storeChange', onChange);
      resolve(change);
    };
    primary.on('storeChange', onChange);
  });
  process.kill(primary.workerById(leader)!.pid!, 'SIGKILL');
  const next = (await elected).value as number;
  const leaders = await Promise.all(primary.workers.filter((worker) => worker.state === 'ready').map((worker) => primary.send(worker, 'isLeader')));
  console.log(`after a SIGKILL of worker ${leader}: worker ${next} leads (${leaders.filter(Boolean).length} leader)`);
  await primary.shutdown();
} else {
  await new StoreWorker().start();
}
