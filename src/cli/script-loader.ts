/**
 * Loading a plain script the way `node script.js` would. An ES module is imported. A
 * CommonJS script is run as the main module (`module.runMain`), so `require.main === module`
 * holds and the common `if (require.main === module) app.listen(...)` still starts the server.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadScript(path: string): Promise<unknown> {
  if (isCommonJs(path) && !usesLoaderHooks()) {
    // Node runs the entry point through the ESM loader when --import/--loader hooks are
    // present (tsx, for instance); that path cannot report errors to us, so import instead.
    const { runMain } = process.getBuiltinModule('node:module');
    runMain(path);
    return undefined;
  }
  return import(pathToFileURL(path).href);
}

function isCommonJs(path: string): boolean {
  const extension = extname(path);
  if (extension === '.cjs') return true;
  if (extension !== '.js') return false;
  return nearestPackageType(dirname(path)) !== 'module';
}

function nearestPackageType(directory: string): string | undefined {
  for (let current = directory; ; current = dirname(current)) {
    try {
      return (JSON.parse(readFileSync(join(current, 'package.json'), 'utf8')) as { type?: string }).type ?? 'commonjs';
    } catch {
      // no (readable) package.json here: look further up
    }
    if (dirname(current) === current) return undefined;
  }
}

function usesLoaderHooks(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((flag) => /^--(import|loader|experimental-loader)\b/.test(flag));
}
