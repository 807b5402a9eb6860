/**
 * A hint for workers that could not start: their script is TypeScript (`.ts`, `.mts`, `.cts`,
 * `.tsx`) and nothing in their Node options loads TypeScript. Node 20 refuses such a file
 * ("Unknown file extension"); newer Node strips types from `.ts` by itself, but not from `.tsx`
 * nor TypeScript-only syntax (enums, namespaces). Given only after a failed start: a loader may
 * also come from somewhere we cannot see, and a plain-JavaScript `.ts` file runs anyway.
 */

const kTypeScriptFile = /\.(?:[cm]?ts|tsx)$/i;
/** Node options that load code before the script: any of them may register a TypeScript loader. */
const kLoaderOptions = ['--import', '--loader', '--experimental-loader', '--require', '-r', '--experimental-strip-types', '--experimental-transform-types'];

/**
 * The hint (one sentence), or undefined when none of `scripts` is TypeScript or the Node options
 * (`execArgv`, then `NODE_OPTIONS`) name a loader.
 */
export function typeScriptLoaderHint(scripts: ReadonlyArray<string | undefined>, execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const script = scripts.find((path) => path !== undefined && kTypeScriptFile.test(path));
  if (script === undefined) return undefined;
  const options = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  if (options.some((option) => kLoaderOptions.some((loader) => option === loader || option.startsWith(`${loader}=`)))) return undefined;
  return (
    `Hint: ${script} is TypeScript, and the workers run without a TypeScript loader: ` +
    "add one to their Node options, such as --import tsx (execArgv: ['--import', 'tsx']; clusterkit run: --node-arg=--import=tsx)."
  );
}
