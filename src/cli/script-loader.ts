/**
 * Loading a plain script the way `node script.js` would. An ES module is imported. A
 * CommonJS script is run as the main module (`module.runMain`), so `require.main === module`
 * holds and the common `if (require.main === module) app.listen(...)` still starts the server.
 * A file whose extension Node's ES module loader does not know (`server.js.bak`,
 * `www/server.cjs.txt`) is CommonJS to `node file` outside a "type": "module" package: it runs
 * so here too (H411; before, its import failed with `Unknown file extension ".bak"`).
 */
import { dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importNamespace } from '../import-module.js';
import { isCommonJsFormat, nearestPackage, nearestPackageType } from '../module-format.js';

export { nearestPackage, nearestPackageType };

/** The script's namespace, boxed (import-module.ts `importNamespace`); none for a CommonJS script run as the main module. */
export async function loadScript(path: string): Promise<{ readonly namespace: unknown }> {
  if (isCommonJs(path) && !usesLoaderHooks()) {
    // Node runs the entry point through the ESM loader when --import/--loader hooks are
    // present (tsx, for instance); that path cannot report errors to us, so import instead.
    const { runMain } = process.getBuiltinModule('node:module');
    runMain(path);
    return { namespace: undefined };
  }
  return importNamespace(pathToFileURL(path).href, isCommonJsFormat(path));
}

/**
 * The extensions Node's ES module loader gives a format of their own; any other (but none) is
 * one `node file` runs as CommonJS, unless the package says "type": "module". The TypeScript
 * ones are left to the loader (Node's type stripping, or a hook such as tsx).
 */
const kLoaderExtensions = new Set(['', '.js', '.mjs', '.cjs', '.json', '.wasm', '.node', '.ts', '.mts', '.cts']);

/** Whether `node <path>` runs the file as CommonJS: `.cjs`, or `.js` (or an extension of no format) outside a "type": "module" package. */
export function isCommonJs(path: string): boolean {
  const extension = extname(path);
  if (extension === '.cjs') return true;
  if (extension !== '.js' && kLoaderExtensions.has(extension)) return false;
  return nearestPackageType(dirname(path)) !== 'module';
}

/** Whether the extension of `path` is one Node's ES module loader has no format for (`.bak`, `.txt`). */
export function hasUnknownExtension(path: string): boolean {
  return !kLoaderExtensions.has(extname(path));
}

export function usesLoaderHooks(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  const flags = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return flags.some((flag) => /^--(import|loader|experimental-loader)\b/.test(flag));
}
