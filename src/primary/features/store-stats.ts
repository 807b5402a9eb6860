/**
 * The shared store's figures, for `primary.store.stats()`, `clusterkit status` and the
 * dashboard: what it holds against its budget, and what its watchers cost.
 */

/** A snapshot of the shared store (`primary.store.stats()`). Counts, and bytes where named so. */
export interface StoreStats {
  /** Keys held now. */
  keys: number;
  /** The most keys it may hold: `maxStoreKeys` (at most 16 777 216, a JavaScript Map's own limit). */
  maxKeys: number;
  /** Bytes held, as counted against `maxStoreBytes`: each key's length (twice it past Latin-1) plus its value's size on the wire, plus each entry's overhead (112 bytes; 208 for an ephemeral key). */
  bytes: number;
  /** `maxStoreBytes`; `null` when it is unbounded (`Infinity`, which JSON cannot carry). */
  maxBytes: number | null;
  /** Keys tied to a live worker (written with `{ ephemeral: true }`): removed at its exit. */
  ephemeralKeys: number;
  /** Watches: one per worker and key it watches (each worker may watch up to `maxStoreWatchesPerWorker` keys). */
  watches: number;
  /** Distinct keys watched. */
  watchedKeys: number;
  /** Workers watching at least one key. */
  watchers: number;
  /** Changes held back for watchers that read too slowly (the latest per key, sent once they read again). */
  heldChanges: number;
  /** Writes (the primary's and the workers') and watches refused since the primary started (`storeFull` events, and the primary's own refused writes). */
  refusals: number;
  /**
   * Of `refusals`, the watches refused because their worker already watched
   * `maxStoreWatchesPerWorker` keys: a worker's own limit, not the budget (`maxStoreBytes`,
   * `maxStoreKeys`) running out.
   */
  watchLimitRefusals: number;
}

/** What the store's watchers and leases add to its figures. */
export type StoreActivity = Pick<StoreStats, 'ephemeralKeys' | 'watches' | 'watchedKeys' | 'watchers' | 'heldChanges' | 'watchLimitRefusals'> & { watchRefusals: number };

export const kNoActivity: StoreActivity = Object.freeze({ ephemeralKeys: 0, watches: 0, watchedKeys: 0, watchers: 0, heldChanges: 0, watchRefusals: 0, watchLimitRefusals: 0 });

/** True when the store holds, watches, holds back or has refused anything: what `status` shows only then. */
export function isStoreInUse(stats: Pick<StoreStats, 'keys' | 'watches' | 'heldChanges' | 'refusals'>): boolean {
  return stats.keys > 0 || stats.watches > 0 || stats.heldChanges > 0 || stats.refusals > 0;
}
