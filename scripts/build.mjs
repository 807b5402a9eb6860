// Builds dist/: type declarations with tsc, and the code as one ESM bundle with esbuild.
//
// One file, dependencies included, instead of ~50 modules and two packages: each ESM module
// (and the CommonJS interop eventemitter3 needs) costs every worker start-up time, and a
// worker must be ready about as fast as a hand-written one (see docs/performance.md). The
// bundled packages keep their MIT notices at the end of the file.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const bundled = ['eventemitter3', 'p-timeout'];

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const shared = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  sourcemap: true,
  logLevel: 'warning',
  footer: { js: bundled.map(licenseNotice).join('\n') },
};
await build({ ...shared, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
// The CLI (package.json `bin`, shebang kept from the source) and the bootstrap its workers
// run. Each is self-contained like dist/index.js; the bootstrap pulls in only the worker side,
// so a `clusterkit run` worker loads less than a worker importing the whole library.
await build({ ...shared, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli/main.js' });
await build({ ...shared, entryPoints: ['src/cli/worker-main.ts'], outfile: 'dist/cli/worker-main.js' });
// The dashboard's page and its chart library, next to the CLI bundle that serves them: the
// package works offline and needs no CDN (see src/cli/dashboard/static-files.ts).
const page = new URL('../dist/cli/dashboard/page/', import.meta.url);
cpSync(new URL('../src/cli/dashboard/page/', import.meta.url), page, { recursive: true });
const uplot = new URL('../node_modules/uplot/', import.meta.url);
for (const file of ['dist/uPlot.iife.min.js', 'dist/uPlot.min.css', 'LICENSE']) {
  cpSync(new URL(file, uplot), new URL(`vendor/${file.replace('dist/', '')}`, page));
}

function licenseNotice(name) {
  const directory = new URL(`../node_modules/${name}/`, import.meta.url);
  const { version } = JSON.parse(readFileSync(new URL('package.json', directory), 'utf8'));
  const file = ['LICENSE', 'license', 'LICENSE.md'].map((candidate) => new URL(candidate, directory)).find((url) => {
    try {
      readFileSync(url);
      return true;
    } catch {
      return false;
    }
  });
  const text = readFileSync(file, 'utf8').trim().replaceAll('*/', '* /');
  return `/*! Bundled: ${name}@${version}\n${text}\n*/`;
}
