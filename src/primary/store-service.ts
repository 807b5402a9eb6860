/**
 * Serves the shared store to workers (`$store` requests) and tells watching workers about
 * changes (`$storeChange` notifications).
 */
import { describeValue, InvalidArgumentError } from '../errors.js';
import { kStoreChangeNotice, kStoreRequest } from '../messaging/system-types.js';
import type { PrimaryInternals } from './primary-internals.js';
import { SharedStore, type StoreChange } from './shared-store.js';
import type { WorkerRecord } from './worker-record.js';

/** The operations a worker may request. */
export type StoreOperation =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'increment'; key: string; by: number }
  | { op: 'compareAndSet'; key: string; expected?: unknown; next?: unknown }
  | { op: 'entries'; prefix: string }
  | { op: 'watch'; key: string }
  | { op: 'unwatch'; key: string };

export function createSharedStore(internals: Pick<PrimaryInternals, 'options' | 'system' | 'emit'>): SharedStore {
  /** Workers watching each key; a record leaves when it exits (lazily, at the next change). */
  const watchers = new Map<string, Set<WorkerRecord>>();
  const store = new SharedStore(internals.options.serialization, internals.options.maxMessageBytes, (change: StoreChange) => {
    internals.emit('storeChange', change);
    notifyWatchers(watchers, change);
  });
  internals.system.register(kStoreRequest, (record, payload) => runOperation(store, watchers, record, payload as StoreOperation));
  return store;
}

function runOperation(store: SharedStore, watchers: Map<string, Set<WorkerRecord>>, record: WorkerRecord, operation: StoreOperation): unknown {
  const source = record.handle;
  switch (operation?.op) {
    case 'get':
      return store.get(operation.key);
    case 'set':
      store.set(operation.key, operation.value, source);
      return undefined;
    case 'delete':
      return store.delete(operation.key, source);
    case 'increment':
      return store.increment(operation.key, operation.by, source);
    case 'compareAndSet':
      return store.compareAndSet(operation.key, operation.expected, operation.next, source);
    case 'entries':
      return store.entries(operation.prefix);
    case 'watch': {
      store.has(operation.key); // validates the key
      let set = watchers.get(operation.key);
      if (!set) watchers.set(operation.key, (set = new Set()));
      set.add(record);
      return undefined;
    }
    case 'unwatch':
      watchers.get(operation.key)?.delete(record);
      return undefined;
    default:
      throw new InvalidArgumentError(`Unknown store operation ${describeValue((operation as { op?: unknown } | null)?.op)}.`);
  }
}

function notifyWatchers(watchers: Map<string, Set<WorkerRecord>>, change: StoreChange): void {
  const set = watchers.get(change.key);
  if (!set) return;
  const notice = { key: change.key, value: change.value, previous: change.previous, deleted: change.deleted };
  for (const record of set) {
    if (record.state === 'exited' || !record.isConnected) {
      set.delete(record);
      continue;
    }
    try {
      record.endpoint.notify(kStoreChangeNotice, notice);
    } catch {
      set.delete(record); // its channel just closed
    }
  }
  if (set.size === 0) watchers.delete(change.key);
}
