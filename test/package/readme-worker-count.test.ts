/**
 * The README's library example runs `workerCount: 'auto'` right after the CLI line that runs
 * one worker in development: the library's `'auto'` has no development mode, and the README
 * must say so where the example is (tester t21 started it without NODE_ENV and got one worker
 * per CPU, unwarned).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary } from '../../src/index.js';
import { autoWorkerCount } from '../../src/primary/pool/cpu-limit.js';
import { kRepoRoot } from '../helpers/spawn.js';

describe("the README's library example", () => {
  it("[H169][H467] says that 'auto' is one worker per core in development too, as the library does, and that the runner keeps its development mode", () => {
    const saved = process.env.NODE_ENV;
    try {
      delete process.env.NODE_ENV;
      expect(new ClusterPrimary({ workerCount: 'auto', maxWorkers: 1_024 }).options.workerCount).toBe(autoWorkerCount());
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
    const readme = readFileSync(join(kRepoRoot, 'README.md'), 'utf8');
    const example = readme.slice(readme.indexOf('## Use it in your project'), readme.indexOf("workerCount: 'auto'") + 200);
    expect(example).toMatch(/`ClusterPrimary` has no development mode:\n`'auto'` is one worker per core with or without `NODE_ENV=production`/);
    // The runner keeps its development mode, as the CLI does (newcomer tester t50: "the library has no development mode" read as the runner too).
    expect(example).toMatch(/`startClusteredService`, like `clusterkit run`, starts 1 worker\nwithout `NODE_ENV=production`/);
    expect(example).toMatch(/new ClusterPrimary\(\{ workerCount: 'auto' \}\)\.start\(\); \/\/ one per core, in development too\n/);
  });
});
