/**
 * A worker script or module named by its JavaScript path (`new URL('./worker.js',
 * import.meta.url)`, TypeScript's convention for ESM) while only the TypeScript source is there
 * (`worker.ts`), as when the primary itself runs from its sources under tsx (H380). With a
 * TypeScript loader among the workers' Node options the TypeScript sibling is run; without one
 * the refusal names it and says what to do.
 */
import { isFile, pathExists } from './file-kind.js';
import { resolve } from 'node:path';
import { splitNodeOptions } from './primary/pool/loader-hint.js';

/** A JavaScript extension and the TypeScript ones a loader maps it to, in the order tried. */
const kSiblingExtensions: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['.js', ['.ts', '.tsx']],
  ['.mjs', ['.mts']],
  ['.cjs', ['.cts']],
  ['.jsx', ['.tsx']],
];

/** Node options that run a module before the script: their value may be a TypeScript loader. */
const kPreloadOptions = ['--import', '--loader', '--experimental-loader', '--require', '-r'];
/** Node options that make Node itself run TypeScript. */
const kTypeScriptFlags = ['--experimental-strip-types', '--experimental-transform-types'];
/**
 * Preloads known to load TypeScript: tsx (`tsx`, `tsx/esm`, and the tsx CLI's
 * `file:///.../tsx/dist/loader.mjs`), ts-node (`ts-node/esm`, `ts-node/register`), @swc-node,
 * esbuild-register, @esbuild-kit.
 */
const kTypeScriptPreload = /(?:^|[/\\:@])(?:tsx|ts-node|swc-node|esbuild-register|esbuild-kit)(?:[/\\@]|$)/;

function isOneOf(option: string, names: readonly string[]): boolean {
  return names.some((name) => option === name || option.startsWith(`${name}=`));
}

/**
 * How the workers load TypeScript, given `options` (their `execArgv` followed by their
 * NODE_OPTIONS, split): `'loader'` for a known loader as a preload, `'strip'` when only Node
 * itself strips types (a flag, or a Node that does by default: `process.features.typescript`,
 * Node 23.6+), which runs no `.tsx`; undefined when nothing does.
 */
export function typeScriptSupport(options: readonly string[]): 'loader' | 'strip' | undefined {
  const isLoader = options.some((option, index) => {
    if (!isOneOf(option, kPreloadOptions)) return false;
    const value = option.includes('=') ? option.slice(option.indexOf('=') + 1) : options[index + 1];
    return value !== undefined && kTypeScriptPreload.test(value);
  });
  if (isLoader) return 'loader';
  const features = process.features as { typescript?: unknown };
  const strips = options.some((option) => isOneOf(option, kTypeScriptFlags)) || (typeof features.typescript === 'string' && features.typescript !== '');
  return strips ? 'strip' : undefined;
}

/** Whether workers with these Node options run the TypeScript file `path` (Node's own type stripping runs no `.tsx`). */
export function canRunTypeScript(path: string, options: readonly string[]): boolean {
  const support = typeScriptSupport(options);
  return support === 'loader' || (support === 'strip' && !path.toLowerCase().endsWith('.tsx'));
}

/** The workers' Node options as one list: `execArgv`, then NODE_OPTIONS split as Node splits it. */
export function workerNodeOptionList(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  return [...execArgv, ...splitNodeOptions(nodeOptions)];
}

/**
 * The TypeScript sibling of `path` (written as given: relative stays relative) when `path`, a
 * `.js`/`.mjs`/`.cjs`/`.jsx` file, is not there and its sibling is a file; else undefined.
 * `cwd` is the directory a relative path is found from.
 */
export function typeScriptSiblingOf(path: string, cwd?: string): string | undefined {
  if (pathExists(resolve(cwd ?? '.', path))) return undefined;
  return siblingNames(path).find((sibling) => isFile(resolve(cwd ?? '.', sibling)));
}

/** The TypeScript names of a `.js`/`.mjs`/`.cjs`/`.jsx` path, in the order tried (none for another path). */
export function siblingNames(path: string): string[] {
  const entry = kSiblingExtensions.find(([extension]) => path.toLowerCase().endsWith(extension));
  if (entry === undefined) return [];
  const stem = path.slice(0, path.length - entry[0].length);
  return entry[1].map((extension) => `${stem}${extension}`);
}

/** `clusterkit run`'s workers' Node options: clusterkit's own, then `nodeArgs`, then NODE_OPTIONS. */
export function cliWorkerNodeOptions(nodeArgs: readonly string[] | undefined): string[] {
  return workerNodeOptionList([...process.execArgv, ...(nodeArgs ?? [])], process.env.NODE_OPTIONS);
}

/**
 * The path to run: `path` itself, or its TypeScript sibling when `path` is missing and the
 * workers load TypeScript (`options`, as `workerNodeOptionList` makes them).
 */
export function runnablePath(path: string, options: readonly string[], cwd?: string): string {
  const sibling = typeScriptSiblingOf(path, cwd);
  return sibling !== undefined && canRunTypeScript(sibling, options) ? sibling : path;
}

/**
 * What to do when `path` is missing but its TypeScript sibling is there and nothing loads
 * TypeScript: a sentence for the `not-found` error, or undefined when there is no sibling.
 * `isCli` names clusterkit run's flag in place of the library's `node --import tsx`.
 */
export function siblingAdvice(path: string, isCli: boolean): string | undefined {
  const sibling = typeScriptSiblingOf(path);
  if (sibling === undefined) return undefined;
  const loader = isCli
    ? 'run it with a TypeScript loader (clusterkit run --node-arg=--import=tsx, or nodeArgs: ["--import=tsx"] in the config)'
    : 'run the primary with a TypeScript loader (node --import tsx primary.ts; the workers inherit its Node options), or give the workers one (execArgv)';
  return `${sibling} exists: ${loader}, or build it and point at the built file.`;
}
