// Builds dist/: type declarations with tsc, and the code as ESM bundles with esbuild.
//
// Few files, dependencies included, instead of ~50 modules and two packages: each ESM module
// (and the CommonJS interop eventemitter3 needs) costs every worker start-up time, and a
// worker must be ready about as fast as a hand-written one (see docs/performance.md). The
// library is two entries over shared chunks: `clusterkit` (dist/index.js) and the worker side
// alone, `clusterkit/worker` (dist/worker.js), which a worker compiles in about half the time.
// The bundled packages keep their MIT notices at the end of each file.
//
// Source maps point only at files the package ships: our code maps to src/*.ts (in the
// tarball, so the maps carry no copy of it), and the bundled dependencies' lines are left
// unmapped rather than pointing at a node_modules path a user's install does not have.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const bundled = ['eventemitter3', 'p-timeout'];
const kImportModulePlaceholder = 'clusterkit-import-module-placeholder';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const shared = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  footer: { js: bundled.map(licenseNotice).join('\n') },
  plugins: [importModuleOutside()],
};
// The library, then the CLI (package.json `bin`, shebang kept from the source) and the
// bootstrap its workers run. Each is self-contained like dist/index.js; the bootstrap pulls in
// only the worker side, so a `clusterkit run` worker loads less than a worker importing the
// whole library. The CLI's optional parts stay runtime dependencies, imported only when used:
// jiti (2 MB) for a .ts config file, chokidar for --watch, picomatch for its ignore globs.
// The library's two entries share their modules (esbuild's code splitting): `clusterkit/worker`
// is the worker side alone, and a process that imports both entries gets one of each class.
const library = await build({
  ...shared,
  entryPoints: { index: 'src/index.ts', worker: 'src/worker.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
});
for (const output of Object.keys(library.metafile.outputs)) {
  if (output.endsWith('.js.map')) mapOwnSourcesOnly(new URL(`../${output}`, import.meta.url));
  if (output.endsWith('.js')) pointAtImportModule(new URL(`../${output}`, import.meta.url));
}
for (const [entry, outfile, external] of [
  // The bin is small and loads the rest (run-cli.js) once it listens for signals: compiling the
  // whole CLI takes longer than Node's own start, and a signal then was a silent death (H195).
  ['src/cli/main.ts', 'dist/cli/main.js', ['./run-cli.js']],
  ['src/cli/run-cli.ts', 'dist/cli/run-cli.js', ['jiti', 'chokidar', 'picomatch']],
  ['src/cli/worker-main.ts', 'dist/cli/worker-main.js', []],
  // The thread that loads a config file, so a config that never finishes can be stopped.
  ['src/cli/config/config-worker.ts', 'dist/cli/config-worker.js', ['jiti']],
  // The process `--watch` watches the tree in, so a storm of files never blocks the primary (H652, H658).
  ['src/cli/watch/watch-process-main.ts', 'dist/cli/watch-process-main.js', ['chokidar', 'picomatch']],
]) {
  await build({ ...shared, entryPoints: [entry], outfile, external });
  mapOwnSourcesOnly(new URL(`../${outfile}.map`, import.meta.url));
  pointAtImportModule(new URL(`../${outfile}`, import.meta.url));
}
// The one module with an `import()` expression, outside every bundle (src/import-module.ts says why).
await build({ ...shared, plugins: [], footer: undefined, bundle: false, entryPoints: ['src/import-module.ts'], outfile: 'dist/import-module.js' });

// The dashboard's page and its chart library, next to the CLI bundle that serves them: the
// package works offline and needs no CDN (see src/cli/dashboard/static-files.ts).
const page = new URL('../dist/cli/dashboard/page/', import.meta.url);
cpSync(new URL('../src/cli/dashboard/page/', import.meta.url), page, { recursive: true });
const uplot = new URL('../node_modules/uplot/', import.meta.url);
for (const file of ['dist/uPlot.iife.min.js', 'dist/uPlot.min.css', 'LICENSE']) {
  cpSync(new URL(file, uplot), new URL(`vendor/${file.replace('dist/', '')}`, page));
}

/**
 * Keeps src/import-module.ts out of the bundles: an import of it is left to the output as a
 * placeholder, which `pointAtImportModule` makes the path from that output to
 * dist/import-module.js once it is written (the library's entries and its chunks lie in
 * different folders, and esbuild writes an external path as it is given).
 */
function importModuleOutside() {
  return {
    name: 'import-module-outside',
    setup(builder) {
      builder.onResolve({ filter: /(^|\/)import-module\.js$/ }, () => ({ path: kImportModulePlaceholder, external: true }));
    },
  };
}

/** Makes the placeholder import of `file` (a URL) the relative path to dist/import-module.js. */
function pointAtImportModule(file) {
  const code = readFileSync(file, 'utf8');
  if (!code.includes(kImportModulePlaceholder)) return;
  const target = fileURLToPath(new URL('../dist/import-module.js', import.meta.url));
  let path = relative(dirname(fileURLToPath(file)), target);
  if (!path.startsWith('.')) path = `./${path}`;
  writeFileSync(file, code.replaceAll(kImportModulePlaceholder, path));
}

/** Drops the bundled dependencies from a source map: their sources, and every segment into them. */
function mapOwnSourcesOnly(file) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const newIndex = [];
  const sources = [];
  for (const source of map.sources) {
    const isOwn = !source.includes('node_modules/');
    newIndex.push(isOwn ? sources.length : -1);
    if (isOwn) sources.push(source);
  }
  const lines = decode(map.mappings).map((line) =>
    line.flatMap((segment) => {
      if (segment.length === 1) return [segment];
      const index = newIndex[segment[1]];
      // A segment of length 1 marks the rest of the line as unmapped.
      return index === -1 ? [[segment[0]]] : [[segment[0], index, ...segment.slice(2)]];
    }),
  );
  writeFileSync(file, JSON.stringify({ ...map, sources, mappings: encode(lines) }));
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
