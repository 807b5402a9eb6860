/**
 * What a worker's start costs in Node's own modules: importing the built package and
 * `ClusterWorker.start()` must not load the built-ins clusterkit loads only on first use
 * (src/builtins.ts). Each pulls internal modules Node compiles at load time, in every worker,
 * before it is ready (docs/performance.md, "Start to ready").
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { killSpawned, spawnNode } from '../helpers/spawn.js';

afterEach(() => killSpawned());

/** Modules (as `process.moduleLoadList` names them) a worker needs only once an app uses them. */
const kLoadedOnFirstUse = [
  'NativeModule os',
  'NativeModule internal/util/parse_args/parse_args',
  'NativeModule internal/mime',
  'NativeModule http',
  'NativeModule _http_server',
  'NativeModule worker_threads',
  'NativeModule crypto',
  'NativeModule v8',
];

describe('a worker start', () => {
  it.each([
    ['clusterkit', 'index'],
    ['clusterkit/worker', 'worker'],
  ])('importing %s loads none of the built-ins clusterkit loads on first use', async (_name, entry) => {
    const run = spawnNode(['test/fixtures/start-modules.mjs'], { label: `start-modules (${entry})`, env: { START_MODULES_ENTRY: entry } });
    expect(await run.exited()).toBe(0);
    const line = run.stdout().split('\n').find((text) => text.startsWith('{"loaded"'));
    expect(line).toBeDefined();
    const report = JSON.parse(line!) as { loaded: string[] };
    // Something was loaded (the list is read after the import): the check is not vacuous.
    expect(report.loaded.length).toBeGreaterThan(0);
    expect(report.loaded.filter((name) => kLoadedOnFirstUse.includes(name))).toEqual([]);
  });
});
