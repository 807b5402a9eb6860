/**
 * `import(specifier)`, from a module of its own that the bundles keep out of themselves
 * (scripts/build.mjs): no bundle holds an `import()` expression.
 *
 * Why: tsx rewrites every module that holds one (it appends an interop `.then()`) and gives it
 * an inline source map of every line; Node parses that map at the first stack trace read in the
 * process, which for a bundle of 400 KB took 150 to 690 ms, so the first error reply in each
 * direction under `node --import tsx` ran out a 300 ms `timeoutMs` (newcomer t78). Here tsx maps
 * three lines.
 *
 * A relative `specifier` resolves from this module (dist/import-module.js): give a URL or a
 * package name.
 */
export function importModule<Module = unknown>(specifier: string): Promise<Module> {
  return import(specifier) as Promise<Module>;
}
