/**
 * What a worker's start costs in Node's own modules: importing the built package and
 * `ClusterWorker.start()` must not load the built-ins clusterkit loads only on first use
 * (src/builtins.ts). Each pulls internal modules Node compiles at load time, in every worker,
 * before it is ready (docs/performance.md, "Start to ready").
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kRepoRoot, killSpawned, spawnNode } from '../helpers/spawn.js';

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

  // croner, cronRestart's parser, is a dependency a worker must never parse (H377).
  it('[H377] loads no croner: the worker side never has it, and the library only on first use (no static import)', () => {
    const dist = join(kRepoRoot, 'dist');
    const workerSide = ['worker.js', 'cli/worker-main.js', ...readdirSync(join(dist, 'chunks')).filter((name) => name.endsWith('.js')).map((name) => `chunks/${name}`)];
    for (const file of workerSide) expect({ file, croner: readFileSync(join(dist, file), 'utf8').includes('croner') }).toEqual({ file, croner: false });
    const index = readFileSync(join(dist, 'index.js'), 'utf8');
    expect(index).toContain('("croner")');
    expect(index).not.toMatch(/^\s*import[^;]*["']croner["']/m);
  });
});

describe('the code a worker imports', () => {
  it('[H713] holds no import() expression but in dist/import-module.js (tsx maps every line of such a module, and Node parses that map at the first stack trace)', () => {
    // Under `node --import tsx`, the first error reply in each direction took 240 to 690 ms
    // (newcomer t78): tsx rewrote the 400 KB bundles for their import() and gave each an inline
    // source map of every line. The CLI's bin (7 KB) may keep its own.
    const dist = join(kRepoRoot, 'dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js') && !name.includes('dashboard'));
    expect(files).toContain('import-module.js');
    const holding = files.filter((name) => /(?<![\w$.])import\(/.test(readFileSync(join(dist, name), 'utf8')));
    expect(holding.sort()).toEqual(['cli/main.js', 'import-module.js']);
  });

  it('has no regular expression literal with a Unicode property escape (V8 builds its character set at parse time)', () => {
    // `/\p{Default_Ignorable_Code_Point}/u` and its kind cost about 1 ms of CPU at import, even
    // inside a function never called: the name checks build theirs on first use (src/validate.ts
    // `unicodeRegExp`; docs/performance.md, thirteenth session). In a string (`'\\p{M}'`, as the
    // build prints it) a pattern is not parsed until it is used.
    const entry = new URL('../../dist/worker.js', import.meta.url);
    const files = [entry, ...[...readFileSync(entry, 'utf8').matchAll(/from "(\.\/chunks\/[^"]+\.js)"/g)].map((match) => new URL(match[1]!, entry))];
    // Something to check: the entry imports its chunk.
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      const literals = readFileSync(file, 'utf8').match(/(?<!\\)\\p\{[^}]*\}/g) ?? [];
      expect({ file: file.pathname, literals }).toEqual({ file: file.pathname, literals: [] });
    }
  });
});
