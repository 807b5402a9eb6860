/**
 * The shared store: four workers count page views in one key, atomically, and watch a setting
 * the primary changes.
 *
 *   node --import tsx examples/shared-store/main.ts
 */
import cluster from 'node:cluster';
import { ClusterPrimary, ClusterWorker } from 'clusterkit';

interface ToWorker {
  /** Record `count` page views. */
  view: { payload: { count: number }; reply: number };
  /** The last value of "settings:theme" this worker was told about. */
  theme: { payload: void; reply: string | undefined };
}

class StoreWorker extends ClusterWorker<ToWorker> {
  #theme: string | undefined;

  protected override async _init() {
    this.#theme = await this.store.get<string>('settings:theme');
    await this.store.watch('settings:theme', ({ value }) => {
      this.#theme = value as string;
    });
  }

  async _onMessage_view({ count }: { count: number }) {
    let total = 0;
    for (let i = 0; i < count; i++) total = await this.store.increment('views');
    return total;
  }

  _onMessage_theme() {
    return this.#theme;
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
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the notifications arrive
  const themes = await Promise.all(workers.map((worker) => primary.send(worker, 'theme')));
  console.log(`theme seen by the workers: ${[...new Set(themes)].join(', ')}`);
  await primary.shutdown();
} else {
  await new StoreWorker().start();
}
