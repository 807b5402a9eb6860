/**
 * @internal The primary's machinery, for clusterkit's own feature modules (relay, store,
 * metrics, sticky sessions, control socket). Not part of the public API.
 */
import type { PrimaryControl } from './lifecycle/primary-lifecycle.js';
import type { NormalizedPrimaryOptions } from './primary-options.js';
import type { PoolHost } from './pool-host.js';
import type { SystemRouter } from './pool/startup-notices.js';
import type { WorkerPool } from './pool/worker-pool.js';

export interface PrimaryInternals {
  readonly options: NormalizedPrimaryOptions;
  readonly pool: WorkerPool;
  readonly system: SystemRouter;
  readonly control: PrimaryControl;
  readonly emit: PoolHost['emit'];
  readonly reportError: (error: Error) => void;
}

const registry = new WeakMap<object, PrimaryInternals>();

export function registerPrimaryInternals(primary: object, internals: PrimaryInternals): void {
  registry.set(primary, internals);
}

export function primaryInternals(primary: object): PrimaryInternals {
  const internals = registry.get(primary);
  if (!internals) throw new TypeError('Not a ClusterPrimary');
  return internals;
}
