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

/**
 * The namespace of the user's module at `url` (a `file:` URL), in a box. A module that exports a
 * function named `then` has a thenable namespace: the promise of `import()` itself calls it (the
 * spec's resolve adopts thenables), and a `then` that never calls back kept the import pending
 * forever (hostile t90 #1: a worker that served, killed three times as "not ready", then "could
 * not start"). A one-line module that imports it statically (`import * as`, which adopts nothing)
 * and exports it under a name of its own resolves whatever it exports; the box keeps it from
 * being adopted again by the `await`s it goes through. Errors of the import are the module's own.
 *
 * A CommonJS module (`isCommonJs`) is imported as before, adopted if it exports `then`: on Node
 * 20, a CommonJS module that throws, imported by a static `import`, also rejects a promise of
 * Node's own that nothing handles, which ended the process as an unhandled rejection (measured:
 * Node 20.20, `throw` at the top of a .cjs; an ES module importing such a file meets it too).
 */
export async function importNamespace<Module = unknown>(url: string, isCommonJs: boolean): Promise<{ readonly namespace: Module }> {
  // Bun imports a `data:` module but gives it no exports from its static import (Bun 1.x; the
  // bun-smoke test's `clusterkit run` found it): there, import() as before.
  if (isCommonJs || typeof process.versions.bun === 'string') return { namespace: (await import(url)) as Module };
  const wrapper = `data:text/javascript,import * as namespace from ${encodeURIComponent(JSON.stringify(url))};export { namespace };`;
  const { namespace } = (await import(wrapper)) as { namespace: Module };
  return { namespace };
}
