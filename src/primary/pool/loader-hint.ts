/**
 * A hint for workers that could not start: their script is TypeScript (`.ts`, `.mts`, `.cts`,
 * `.tsx`) and nothing in their Node options loads TypeScript. Node 20 refuses such a file
 * ("Unknown file extension"); newer Node strips types from `.ts` by itself, but not from `.tsx`
 * nor TypeScript-only syntax (enums, namespaces). Given only after a failed start: a loader may
 * also come from somewhere we cannot see, and a plain-JavaScript `.ts` file runs anyway.
 */

const kTypeScriptFile = /\.(?:[cm]?ts|tsx)$/i;
/** Node options that run a module before the script (a preload). */
const kPreloadOptions = ['--import', '--loader', '--experimental-loader', '--require', '-r'];
/** Node options that load code before the script, or strip types: any of them may make TypeScript run. */
const kLoaderOptions = [...kPreloadOptions, '--experimental-strip-types', '--experimental-transform-types'];

function isOneOf(option: string, names: readonly string[]): boolean {
  return names.some((name) => option === name || option.startsWith(`${name}=`));
}

/**
 * The preloads among Node options, each as one word (`--import=tsx`, `-r dotenv/config`
 * becomes `-r=dotenv/config`): what runs before a worker's script is imported.
 */
export function preloadsOf(options: readonly string[]): string[] {
  const preloads: string[] = [];
  options.forEach((option, index) => {
    if (!isOneOf(option, kPreloadOptions)) return;
    const value = option.includes('=') ? '' : options[index + 1];
    preloads.push(value === undefined || value === '' ? option : `${option}=${value}`);
  });
  return preloads;
}

/** NODE_OPTIONS split as Node splits it, on white space (quotes are rare there). */
export function splitNodeOptions(nodeOptions: string | undefined): string[] {
  return (nodeOptions ?? '').split(/\s+/).filter((option) => option !== '');
}

/**
 * The hint (one sentence, the advice alone: an error that says it after its message puts
 * `Hint: ` before it), or undefined when none of `scripts` is TypeScript or the Node options
 * (`execArgv`, then `NODE_OPTIONS`) name a loader.
 */
export function typeScriptLoaderHint(scripts: ReadonlyArray<string | undefined>, execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const script = scripts.find((path) => path !== undefined && kTypeScriptFile.test(path));
  if (script === undefined) return undefined;
  const options = [...execArgv, ...splitNodeOptions(nodeOptions)];
  if (options.some((option) => isOneOf(option, kLoaderOptions))) return undefined;
  return (
    `${script} is TypeScript, and the workers run without a TypeScript loader: ` +
    "add one to their Node options, such as --import tsx (execArgv: ['--import', 'tsx']; clusterkit run: --node-arg=--import=tsx)."
  );
}

/**
 * The hint for a pool's workers (`typeScriptLoaderHint` of their script, their first argument,
 * which is the user's script under the CLI's bootstrap, and their Node options), for every error
 * that tells a worker ended before it was ready: `WorkerStartupError` as `CrashLoopError` (H424).
 */
export function workersLoaderHint(
  options: { readonly workerScript: string; readonly workerArgs: readonly string[]; readonly execArgv: readonly string[] },
  env: Readonly<Record<string, string | undefined>> | undefined,
): string | undefined {
  // No env option: the workers inherit the primary's environment.
  const nodeOptions = env !== undefined && 'NODE_OPTIONS' in env ? env.NODE_OPTIONS : process.env.NODE_OPTIONS;
  return typeScriptLoaderHint([options.workerScript, options.workerArgs[0]], options.execArgv, nodeOptions);
}
