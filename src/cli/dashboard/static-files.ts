/**
 * The page's files, served from the package itself: no CDN, so the dashboard works offline
 * and behind a firewall. The build copies `page/` and uPlot's files to `dist/cli/dashboard/page`
 * (next to the bundled CLI); run from source, they are read from `src/` and `node_modules`.
 * Files are read once, at start; only the names listed here are served (no path is ever
 * built from a request).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

const kTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** URL path -> file name in the page directory. */
const kPageFiles: Record<string, string> = {
  '/': 'index.html',
  '/dashboard.css': 'dashboard.css',
  '/dashboard.js': 'dashboard.js',
  '/charts.js': 'charts.js',
  '/markers.js': 'markers.js',
  '/timeline.js': 'timeline.js',
  '/format.js': 'format.js',
  '/favicon.svg': 'favicon.svg',
};

/** URL path -> uPlot's file, in `vendor/` once built, in its package when run from source. */
const kVendorFiles: Record<string, string> = {
  '/vendor/uPlot.iife.min.js': 'uPlot.iife.min.js',
  '/vendor/uPlot.min.css': 'uPlot.min.css',
};

/** Reads the page's files. @throws Error naming the directory when the package is incomplete. */
export function loadStaticFiles(): Map<string, StaticFile> {
  const page = pageDirectory();
  const files = new Map<string, StaticFile>();
  for (const [path, name] of Object.entries(kPageFiles)) files.set(path, read(join(page, name)));
  for (const [path, name] of Object.entries(kVendorFiles)) {
    const built = join(page, 'vendor', name);
    files.set(path, read(existsSync(built) ? built : createRequire(import.meta.url).resolve(`uplot/dist/${name}`)));
  }
  return files;
}

/**
 * `dist/cli/dashboard/page` when bundled into `dist/cli/main.js`, `src/cli/dashboard/page` when
 * this module runs from source.
 */
function pageDirectory(): string {
  const candidates = [new URL('./dashboard/page/', import.meta.url), new URL('./page/', import.meta.url)].map((url) => fileURLToPath(url));
  const found = candidates.find((directory) => existsSync(join(directory, 'index.html')));
  if (!found) throw new Error(`The dashboard page is missing (looked in ${candidates.join(' and ')}); reinstall clusterkit.`);
  return found;
}

function read(path: string): StaticFile {
  const extension = path.slice(path.lastIndexOf('.'));
  return { body: readFileSync(path), type: kTypes[extension] ?? 'application/octet-stream' };
}
