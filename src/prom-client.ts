/**
 * prom-client is an optional peer dependency: loaded from the user's project at run time,
 * when metrics are asked for, and never required. The specifier is a variable so the bundler
 * leaves the import to run time instead of bundling (or requiring) the package.
 */

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importModule } from './import-module.js';

/** What clusterkit needs of a prom-client `Registry` (any object with this method works). */
export interface MetricsRegistry {
  getMetricsAsJSON(): Promise<unknown[]> | unknown[];
}

export interface PromClientModule {
  register: MetricsRegistry;
  AggregatorRegistry: { aggregate(metrics: unknown[][]): { metrics(): Promise<string> } };
}

const kPromClient = 'prom-client';
let loading: Promise<PromClientModule | undefined> | undefined;
/** Where the app's own prom-client is looked for first (`usePromClientOf`): `clusterkit run`'s script. */
let appPath: string | undefined;

/**
 * Looks for prom-client beside `path` (the script `clusterkit run` runs) before clusterkit's own
 * place (H533, hostile retest t55): a global clusterkit found none, or a second copy whose
 * default registry was empty, while the app counted into its own; its series never reached
 * `/metrics`, and nothing said so. Call before `loadPromClient()`.
 */
export function usePromClientOf(path: string): void {
  appPath = path;
}

/** The app's prom-client entry (its package beside `appPath`), as a URL; undefined when it has none there. */
function appPromClient(): string | undefined {
  if (appPath === undefined) return undefined;
  try {
    return pathToFileURL(createRequire(resolve(appPath)).resolve(kPromClient)).href;
  } catch {
    return undefined;
  }
}
/** Why the import failed, set when `loading` resolved undefined: what the primary says when it drops workers' series for it (H523). */
let loadError: Error | undefined;

/** prom-client, or undefined when it is not installed (or cannot be loaded: `promClientLoadError()` says why). */
export function loadPromClient(): Promise<PromClientModule | undefined> {
  // The app's copy (same file, so the same module instance as the app's own import), else clusterkit's.
  loading ??= importModule<{ default?: PromClientModule } & PromClientModule>(appPromClient() ?? kPromClient).then(
    (module: { default?: PromClientModule } & PromClientModule) => module.default ?? module,
    (error: unknown) => {
      loadError = error instanceof Error ? error : new Error(String(error));
      return undefined;
    },
  );
  return loading;
}

/** The import's error once `loadPromClient()` resolved undefined (its message names where the package was looked for); undefined before, and when it loaded. */
export function promClientLoadError(): Error | undefined {
  return loadError;
}
