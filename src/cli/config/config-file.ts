/**
 * Finding and loading `clusterkit.config.{ts,mjs,js,cjs,json}`. JavaScript files are imported
 * natively (CommonJS through Node's interop); TypeScript files through jiti, a runtime
 * dependency: the loader ESLint, Tailwind and Nuxt use for their own TypeScript configs. It is
 * plain JavaScript (no native binary, no child process, no global loader hooks left behind) and
 * imports the config's own dependencies (`clusterkit` itself) natively. It is imported only
 * when a `.ts` config is loaded, so other commands never pay for it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../usage-error.js';
import { describeError } from '../../readable-error.js';

/** Looked for in this order in the working directory. */
export const kConfigFileNames = ['clusterkit.config.ts', 'clusterkit.config.mjs', 'clusterkit.config.js', 'clusterkit.config.cjs', 'clusterkit.config.json'] as const;
const kTypeScript = new Set(['.ts', '.mts', '.cts']);
const kLoadable = new Set([...kTypeScript, '.mjs', '.js', '.cjs', '.json']);
/** A JSON config is data; anything larger is not a config. */
const kMaxJsonBytes = 1024 * 1024;

/** The config file in `directory`, if there is one. Two of them is an error: which one counts would be a guess. */
export function findConfigFile(directory: string): string | undefined {
  const found = kConfigFileNames.map((name) => join(directory, name)).filter((path) => existsSync(path));
  if (found.length > 1) {
    throw new UsageError(`${directory} has ${found.length} config files (${found.map((path) => path.slice(directory.length + 1)).join(', ')}); keep one, or choose with --config.`, 'run');
  }
  return found[0];
}

/** Checks a `--config` path: an existing file with a loadable extension. */
export function checkConfigPath(path: string): string {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // reported below
  }
  if (!isFile) throw new UsageError(`Config file not found: ${path}`, 'run');
  if (!kLoadable.has(extname(path))) throw new UsageError(`--config must be a .ts, .mts, .cts, .mjs, .js, .cjs or .json file. Received ${path}.`, 'run');
  return path;
}

/** A config that computes itself (`export default await fetchSecrets()`) gets this long. */
const kLoadTimeoutMs = 30_000;

/**
 * The file's default export (or `module.exports`, or the JSON value), not yet checked.
 * @throws UsageError when it cannot be loaded, or does not finish loading within 30 s.
 */
export async function loadConfigFile(path: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UsageError(`The config file ${path} did not finish loading within ${kLoadTimeoutMs / 1000} s; does its default export wait for something that never comes?`, 'run')), kLoadTimeoutMs);
  });
  try {
    return await Promise.race([load(path), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function load(path: string): Promise<unknown> {
  const extension = extname(path);
  try {
    if (extension === '.json') return loadJson(path);
    if (kTypeScript.has(extension)) return await loadTypeScript(path);
    const namespace = (await import(pathToFileURL(path).href)) as { default?: unknown };
    return await defaultExport(namespace, path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const reason = describeError(error); // a config may throw anything, even a value that cannot be read
    throw new UsageError(`Cannot load the config file ${path}: ${reason.split('\n')[0]}`, 'run');
  }
}

function loadJson(path: string): unknown {
  if (statSync(path).size > kMaxJsonBytes) throw new UsageError(`The config file ${path} is larger than 1 MiB.`, 'run');
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`The config file ${path} is not valid JSON: ${(error as Error).message}`, 'run');
  }
}

async function loadTypeScript(path: string): Promise<unknown> {
  const { createJiti } = await import('jiti');
  // No cache on disk: a server's file system may be read-only, and a config is small.
  const jiti = createJiti(pathToFileURL(path).href, { fsCache: false, moduleCache: false, interopDefault: true });
  const namespace = await jiti.import<{ default?: unknown }>(path);
  return defaultExport(namespace, path);
}

async function defaultExport(namespace: { default?: unknown }, path: string): Promise<unknown> {
  if (!('default' in namespace) || namespace.default === undefined) {
    throw new UsageError(`The config file ${path} has no default export; write "export default defineConfig({ apps: [...] })" (or "module.exports = { apps: [...] }").`, 'run');
  }
  // `export default (async () => ({ apps }))()`: a config may compute itself.
  return await namespace.default;
}
