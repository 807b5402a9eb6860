// Jest globalSetup: bundles every TypeScript fixture in test/fixtures once per run, so the
// worker processes the tests fork start as plain JavaScript instead of through tsx.
//
// A worker started with `--import tsx` spends most of its start-up in the loader (about 2 s
// against 0.5 s on a busy 2-core machine), and the suite forks a few hundred of them: this
// alone is minutes of CPU. The bundles are built like dist/ (esbuild, ESM, one file per entry,
// packages left to node_modules), into a directory of this run, removed by global-teardown.mjs.
// test/helpers/primary.ts picks them up through CLUSTERKIT_TEST_FIXTURES; without it (a
// fixture run by hand), fixtures run through tsx as before.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

export default async function globalSetup() {
  // Under the repository's node_modules: the bundles' bare imports (eventemitter3...) resolve
  // from there, as the sources' do.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  // Bundles of runs that were killed before their teardown: an hour old is no live run's.
  for (const name of readdirSync(cache)) {
    const old = join(cache, name);
    if (name.startsWith('clusterkit-fixtures-') && Date.now() - statSync(old).mtimeMs > 3_600_000) rmSync(old, { recursive: true, force: true });
  }
  const out = mkdtempSync(join(cache, 'clusterkit-fixtures-'));
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  const fixtures = join(root, 'test', 'fixtures');
  const entryPoints = readdirSync(fixtures, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => join(fixtures, path));
  await build({
    entryPoints,
    outbase: fixtures,
    outdir: out,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    logLevel: 'warning',
  });
  process.env.CLUSTERKIT_TEST_FIXTURES = out;
}
