/**
 * Compile-only checks for the cluster-wide features. Each `@ts-expect-error` line must fail
 * to compile.
 */
import { ClusterPrimary, ClusterWorker, type MessageContext, type ProtocolProblem, type ReloadRequester, type StoreChange, type StoreStats, type StoreWriteOptions } from '../../src/index.js';

interface ToWorker {
  cacheGet: { payload: { key: string }; reply: string | null };
  ping: { payload: void; reply: number };
}

class Worker extends ClusterWorker<ToWorker> {
  _onMessage_cacheGet(payload: { key: string }, context: MessageContext) {
    if (context.from !== 'primary') {
      const sender: number = context.from.workerId;
      const name: string | undefined = context.from.name;
      void [sender, name];
    }
    return payload.key.length > 0 ? payload.key : null;
  }

  _onMessage_ping() {
    return 1;
  }

  async run() {
    const cached: string | null = await this.sendTo('cache', 'cacheGet', { key: 'k' }, { timeoutMs: 100 });
    const pong: number = await this.sendTo(3, 'ping');
    // @ts-expect-error unknown message type for another worker
    await this.sendTo('cache', 'cacheGot', { key: 'k' });
    // @ts-expect-error wrong payload
    await this.sendTo('cache', 'cacheGet', { key: 1 });
    // @ts-expect-error the target is a name or an id
    await this.sendTo({ name: 'cache' }, 'ping');
    const count: number = await this.store.increment('hits');
    const value = await this.store.get<{ on: boolean }>('flag');
    const on: boolean | undefined = value?.on;
    const swapped: boolean = await this.store.compareAndSet('leader', undefined, 'me');
    const isLeader: boolean = await this.store.compareAndSet('leader', undefined, this.id, { ephemeral: true });
    await this.store.set('presence', true, { ephemeral: true });
    const options: StoreWriteOptions = { ephemeral: false };
    await this.store.set('presence', true, options);
    // @ts-expect-error ephemeral is a boolean
    await this.store.set('presence', true, { ephemeral: 'yes' });
    // @ts-expect-error no other write option
    await this.store.set('presence', true, { ttlMs: 10 });
    const stop: () => Promise<void> = await this.store.watch('flag', ({ key, value: next, deleted }) => void [key, next, deleted]);
    return [cached, pong, count, on, swapped, isLeader, stop];
  }
}
void Worker;

async function primarySide(primary: ClusterPrimary<ToWorker>) {
  primary.store.set('flag', { on: true });
  // The primary's reads take the stored type as a worker's do (newcomer t64).
  const flag: { on: boolean } | undefined = primary.store.get<{ on: boolean }>('flag');
  const flags: Array<[string, { on: boolean }]> = primary.store.entries<{ on: boolean }>('fl');
  void [flag, flags];
  const next: number = primary.store.increment('hits', 2);
  const figures: StoreStats = primary.store.stats();
  const budget: number | null = figures.maxBytes;
  // @ts-expect-error maxBytes is null when the budget is unbounded
  const unbounded: number = figures.maxBytes;
  void [figures.keys + figures.watches + figures.refusals, budget, unbounded];
  primary.on('storeChange', (change: StoreChange) => void [change.key, change.source === 'primary' ? 0 : change.source.id]);
  primary.on('workerProtocolError', ({ worker, error, dropped }) => {
    const problem: ProtocolProblem = error.problem;
    const code: 'ERR_PROTOCOL' = error.code;
    return void [worker.id, dropped + 1, problem, code, error.messageType?.length];
  });
  primary.on('workerProtocolError', ({ problems }) => void problems['malformed-frame']);
  const protocolErrors: number = primary.stats()[0]!.protocolErrors;
  void protocolErrors;
  primary.on('reload', ({ workers, requestedBy }) => {
    const by: ReloadRequester = requestedBy;
    return void [workers + 1, by];
  });
  await primary.reload({ requestedBy: 'watch' });
  await primary.reload({ requestedBy: 'schedule' });
  // The cronRestart option (H377): an expression string.
  void new ClusterPrimary({ cronRestart: '0 3 * * *' });
  // @ts-expect-error a cron expression is a string
  void new ClusterPrimary({ cronRestart: 3 });
  // @ts-expect-error what asked for a reload is one of its known values
  await primary.reload({ requestedBy: 'cron' });
  const sticky = await primary.listenSticky({ port: 0, host: '127.0.0.1' });
  const port: number = sticky.address.port;
  // @ts-expect-error port is required
  await primary.listenSticky({ host: '127.0.0.1' });
  await primary.listenSticky({ port: 0, role: 'web' });
  await primary.listenSticky({ port: 0, maxQueued: 4096 });
  // @ts-expect-error maxQueued is a count
  await primary.listenSticky({ port: 0, maxQueued: '4096' });
  // @ts-expect-error a role is one string
  await primary.listenSticky({ port: 0, role: ['web'] });
  primary.on('stickyRefused', ({ reason, worker, role, count, limit, limitValue }) => {
    const known: 'no-ready-worker' | 'no-sticky-worker' | 'worker-refused' | 'queue-full' | 'not-received' = reason;
    const reached: 'maxQueued' | 'openFiles' | undefined = limit;
    return void [known, worker?.id, role?.length, count + 1, reached, (limitValue ?? 0) + 1];
  });
  const health = await primary.listenHealth({ port: 9090, minReady: 2 });
  await health.close();
  const text: string = await primary.metrics({ timeoutMs: 500 });
  const workers = await primary.scale(4);
  const named = primary.workerByName('cache')?.name;
  return [next, port, text, workers, named];
}
void primarySide;
