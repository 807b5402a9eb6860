/**
 * The service-runner example: one call runs ./server.ts on every core, restarts crashed
 * workers, stops gracefully on SIGTERM/Ctrl-C (each worker closing its pool) and reloads
 * without downtime on SIGHUP. `clusterkit status runner-demo` shows it from another terminal.
 *
 * From a project where clusterkit is installed:
 *   npm install clusterkit tsx
 *   NODE_ENV=production node --import tsx node_modules/clusterkit/examples/service-runner/main.ts
 * In the clusterkit repository, after npm run build: NODE_ENV=production node --import tsx examples/service-runner/main.ts
 * Copied into a project of your own, it runs as an ES module (top-level await): run
 *   npm pkg set type=module   first.
 */
import { startClusteredService } from 'clusterkit';

await startClusteredService<typeof import('./server.js')>({
  serviceName: 'runner-demo',
  workerModule: new URL('./server.ts', import.meta.url),
  workers: process.env.WORKERS ? Number(process.env.WORKERS) : 'auto',
  shutdownTimeoutMs: 15_000,
  onPrimaryStartup: ({ workerCount }) => console.log(`runner-demo: ${workerCount} workers ready (primary pid ${process.pid})`),
  onWorkerCrashed: ({ workerId, code, signal }) => console.warn(`worker ${workerId} crashed (${signal ?? `code ${code}`}); restarting it`),
  onWorkerStartup: ({ workerModule, workerId, pid }) => console.log(`worker ${workerId} (pid ${pid}) serving on http://127.0.0.1:${workerModule.port()}`),
  onWorkerShutdown: async ({ workerModule }) => {
    await workerModule.pool.end();
    console.log(`worker pid ${process.pid} closed its pool`);
  },
});
