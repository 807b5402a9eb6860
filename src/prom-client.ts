/**
 * prom-client is an optional peer dependency: loaded from the user's project at run time,
 * when metrics are asked for, and never required. The specifier is a variable so the bundler
 * leaves the import to run time instead of bundling (or requiring) the package.
 */

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
/** Why the import failed, set when `loading` resolved undefined: what the primary says when it drops workers' series for it (H523). */
let loadError: Error | undefined;

/** prom-client, or undefined when it is not installed (or cannot be loaded: `promClientLoadError()` says why). */
export function loadPromClient(): Promise<PromClientModule | undefined> {
  loading ??= import(kPromClient).then(
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
