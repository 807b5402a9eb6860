/**
 * The module format Node (or a TypeScript loader such as tsx) gives a file, read from its
 * extension and the nearest package.json's "type", as Node's own resolution does.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

/**
 * Whether `path` loads as CommonJS: `.cjs` and `.cts`, or `.js`, `.ts` (tsx compiles it as its
 * package says) or an extension of no format, outside a "type": "module" package. `.mjs`, `.mts`,
 * `.json`, `.wasm`, `.node`: not CommonJS.
 */
export function isCommonJsFormat(path: string): boolean {
  const extension = extname(path);
  if (extension === '.cjs' || extension === '.cts') return true;
  if (['.mjs', '.mts', '.json', '.wasm', '.node'].includes(extension)) return false;
  return nearestPackageType(dirname(path)) !== 'module';
}

/** The "type" of the nearest package.json (`commonjs` when it has none), or undefined with no package.json up to the root. */
export function nearestPackageType(directory: string): string | undefined {
  const found = nearestPackage(directory);
  return found === undefined ? undefined : (found.type ?? 'commonjs');
}

/** The nearest readable package.json from `directory` up: its path and its own "type" (undefined when it has none). */
export function nearestPackage(directory: string): { path: string; type: string | undefined } | undefined {
  for (let current = directory; ; current = dirname(current)) {
    const path = join(current, 'package.json');
    try {
      const type = (JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }).type;
      return { path, type: typeof type === 'string' ? type : undefined };
    } catch {
      // no (readable) package.json here: look further up
    }
    if (dirname(current) === current) return undefined;
  }
}
