/**
 * Compile-only checks (run by `npm run test:types`): the worker module's type flows into the
 * runner's callbacks and its result.
 */
import { startClusteredService, type ClusteredServiceOptions, type ServiceHealthOptions } from '../../src/index.js';

type HttpModule = typeof import('../fixtures/runner-http-module.js');

export async function typedCallbacks(): Promise<void> {
  const service = await startClusteredService<HttpModule>({
    workerModule: new URL('../fixtures/runner-http-module.js', import.meta.url),
    workers: 'auto',
    restart: { maxStartupFailures: 2 },
    onWorkerStartup: ({ workerModule, pid, workerId }) => {
      const listening: boolean = workerModule.server.listening;
      void [listening, pid + workerId];
    },
    onWorkerShutdown: async ({ workerModule }) => {
      await workerModule.flush();
      // @ts-expect-error the module exports no `pool`
      await workerModule.pool.end();
    },
    onWorkerCrashed: ({ code, signal, error }) => {
      // What it died of: absent for a signal or process.exit().
      const where: string | undefined = error?.location;
      const origin: 'uncaughtException' | 'unhandledRejection' | undefined = error?.origin;
      void [code, signal, where, origin];
    },
    onPrimaryShutdown: ({ signal }) => void signal,
  });
  if (service.role === 'worker') {
    const flushed: boolean = service.workerModule.state.flushed;
    void flushed;
  } else {
    await service.scale(service.workerCount + 1);
    // @ts-expect-error only a worker has the module
    void service.workerModule;
  }
}

export const badOptions: Array<ClusteredServiceOptions> = [
  // @ts-expect-error workerModule is required
  { workers: 2 },
  // @ts-expect-error the runner calls it `workers`
  { workerModule: './x.js', workerCount: 2 },
  // @ts-expect-error workers is a number, 'auto' or 'max'
  { workerModule: './x.js', workers: 'all' },
];

/** `health` (H455): `listenHealth()`'s port, host and minReady, checked by the compiler too. */
export async function typedHealth(): Promise<void> {
  const health: ServiceHealthOptions = { port: 9090, host: '0.0.0.0', minReady: 2 };
  await startClusteredService({ workerModule: './server.js', health });
  await startClusteredService({ workerModule: './server.js', health: { port: 0 } });
  // @ts-expect-error the port is required
  await startClusteredService({ workerModule: './server.js', health: { minReady: 2 } });
  // @ts-expect-error minReady is a number of workers
  await startClusteredService({ workerModule: './server.js', health: { port: 9090, minReady: '2s' } });
  // @ts-expect-error role is listenHealth()'s alone: the runner forks no roles
  await startClusteredService({ workerModule: './server.js', health: { port: 9090, role: 'web' } });
}
