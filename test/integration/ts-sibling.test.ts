/**
 * A worker script or worker module named by its `.js` path (`new URL('./worker.js',
 * import.meta.url)`, as docs/getting-started.md and the README write it) while only the
 * TypeScript file is there: run under a TypeScript loader, the TypeScript sibling runs; without
 * one, the refusal names it and says what to do (H380).
 */
import { describe, expect, it } from '@jest/globals';
import { get } from 'node:http';
import { ClusterPrimary, startClusteredService, type WorkerModuleError } from '../../src/index.js';
import { spawnScript, type Spawned } from '../helpers/spawn.js';
import { track } from '../helpers/primary.js';

const kDir = new URL('../fixtures/ts-sibling/', import.meta.url);

/** The body of GET http://127.0.0.1:<port>/. */
function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Waits for the worker's port line, asks it, then stops the primary with SIGTERM and waits for its exit. */
async function servesThenStops(run: Spawned): Promise<string> {
  const [, port] = await run.waitFor(/\{"listening":(\d+)\}/);
  const body = await fetchText(Number(port));
  run.child.kill('SIGTERM');
  await expect(run.exited()).resolves.toBe(0);
  return body;
}

describe('[H380] a .js worker path with only its .ts sibling there', () => {
  it('[H380] getting-started: `node --import tsx primary.ts` with workerScript new URL("./worker.js") starts worker.ts and serves', async () => {
    const run = spawnScript('test/fixtures/ts-sibling/primary.ts', { bundled: false, detached: true, env: { NODE_OPTIONS: '' } });
    await expect(servesThenStops(run)).resolves.toBe('hello from worker.ts\n');
    expect(run.output()).not.toContain('does not exist');
  });

  it('[H380] startClusteredService({ workerModule: new URL("./server.js") }) under `node --import tsx` imports server.ts and serves', async () => {
    const run = spawnScript('test/fixtures/ts-sibling/service.ts', { bundled: false, detached: true, env: { NODE_OPTIONS: '', NODE_ENV: 'production' } });
    await expect(servesThenStops(run)).resolves.toBe('hello from server.ts\n');
    expect(run.output()).not.toContain('does not exist');
  });

  it('[H380] the workers given a loader (execArgv) run the sibling: the options name worker.ts', () => {
    const primary = new ClusterPrimary({ workerScript: new URL('./worker.js', kDir), execArgv: ['--import', 'tsx'], env: { NODE_OPTIONS: undefined }, workerCount: 1, handleSignals: false, logger: false });
    expect(primary.options.workerScript).toBe(new URL('./worker.ts', kDir).pathname);
    // tsx's own CLI marks its processes with its loader's path; ts-node's and Node's type stripping count too.
    for (const execArgv of [['--import=tsx'], ['--import', 'tsx/esm'], ['--require', '/x/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///x/node_modules/tsx/dist/loader.mjs'], ['--loader', 'ts-node/esm'], ['--experimental-strip-types']]) {
      expect(new ClusterPrimary({ workerScript: new URL('./worker.js', kDir), execArgv, env: { NODE_OPTIONS: undefined }, handleSignals: false, logger: false }).options.workerScript).toMatch(/worker\.ts$/);
    }
    // A preload that is no TypeScript loader changes nothing.
    expect(new ClusterPrimary({ workerScript: new URL('./worker.js', kDir), execArgv: ['--import', 'dotenv/config'], env: { NODE_OPTIONS: undefined }, handleSignals: false, logger: false }).options.workerScript).toMatch(/worker\.js$/);
  });

  it('[H380] without a loader, the start is refused naming worker.ts and what to do; no "relative path" hint for a file: URL', async () => {
    const primary = track(new ClusterPrimary({ workerScript: new URL('./worker.js', kDir), execArgv: [], env: { NODE_OPTIONS: undefined }, workerCount: 1, handleSignals: false, logger: false }));
    const error = (await primary.start().catch((failure: unknown) => failure)) as WorkerModuleError;
    expect(error).toMatchObject({ name: 'WorkerModuleError', code: 'ERR_WORKER_MODULE', problem: 'not-found' });
    expect(error.message).toBe(
      `The worker script ${new URL('./worker.js', kDir).pathname} does not exist. ${new URL('./worker.ts', kDir).pathname} exists: run the primary with a TypeScript loader (node --import tsx primary.ts; the workers inherit its Node options), or give the workers one (execArgv), or build it and point at the built file.`,
    );
    expect(primary.workers).toHaveLength(0);
  });

  it('[H380][H612] startClusteredService without a loader rejects naming server.ts, with the system\'s error as its cause', async () => {
    const starting = startClusteredService({ workerModule: new URL('./server.js', kDir), execArgv: [], env: { NODE_OPTIONS: undefined }, handleSignals: false, logger: false });
    const error = (await starting.catch((failure: unknown) => failure)) as WorkerModuleError;
    expect(error).toMatchObject({ name: 'WorkerModuleError', problem: 'not-found' });
    // Newcomer t61: ClusterPrimary's not-found had the ENOENT as its cause, this one none.
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
    expect(error.message).toContain(`${new URL('./server.ts', kDir).pathname} exists: run the primary with a TypeScript loader (node --import tsx primary.ts`);
  });

  it('[H380] "a relative path is resolved from the current directory" only for a relative path', async () => {
    const relative = track(new ClusterPrimary({ workerScript: 'no/such/worker.js', execArgv: [], handleSignals: false, logger: false }));
    await expect(relative.start()).rejects.toThrow('does not exist. Check the path (a relative path is resolved from the current directory).');
    const absolute = track(new ClusterPrimary({ workerScript: '/no/such/worker.js', execArgv: [], handleSignals: false, logger: false }));
    await expect(absolute.start()).rejects.toThrow(/^The worker script \/no\/such\/worker\.js does not exist\. Check the path\.$/);
    const module = startClusteredService({ workerModule: '/no/such/server.js', handleSignals: false, logger: false });
    await expect(module).rejects.toThrow(/^The worker module \/no\/such\/server\.js does not exist\. Check the path\.$/);
  });
});
