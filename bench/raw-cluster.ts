/**
 * The raw baseline: node:cluster workers driven with process.send / worker.send and a
 * hand-written id-matching ack, as people write it without a library.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Serialization } from 'clusterkit';

/**
 * Node flags for every worker of both implementations, from `BENCH_WORKER_FLAGS` (for example
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the workers too); none by default.
 */
export const kWorkerExecArgv = process.env.BENCH_WORKER_FLAGS?.split(' ').filter(Boolean) ?? [];

const kRawWorker = fileURLToPath(new URL('./workers/raw-echo.mjs', import.meta.url));

export class RawCluster {
  readonly workers: Worker[] = [];
  #nextId = 0;
  readonly #pending = new Map<number, (value: unknown) => void>();

  static async start(count: number, serialization: Serialization): Promise<RawCluster> {
    const raw = new RawCluster();
    await raw.fork(count, serialization);
    return raw;
  }

  async fork(count: number, serialization: Serialization): Promise<void> {
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      cluster.setupPrimary({ exec: kRawWorker, args: [], execArgv: kWorkerExecArgv, serialization, silent: false, stdio: undefined });
      const worker = cluster.fork();
      this.workers.push(worker);
      ready.push(
        new Promise((resolve) => {
          const onReady = (message: { t?: string }) => {
            if (message?.t !== 'ready') return;
            worker.off('message', onReady);
            resolve();
          };
          worker.on('message', onReady);
        }),
      );
      worker.on('message', (message: { t?: string; id?: number; p?: unknown }) => {
        if (message?.t !== 'res') return;
        const resolve = this.#pending.get(message.id!);
        this.#pending.delete(message.id!);
        resolve?.(message.p);
      });
    }
    await Promise.all(ready);
  }

  request(worker: Worker, payload: unknown): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.send({ t: 'req', id, p: payload });
    });
  }

  notify(worker: Worker, payload: unknown): void {
    worker.send({ t: 'ntf', p: payload });
  }

  count(worker: Worker): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.send({ t: 'count', id });
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  }
}
