/**
 * Creates the primary's shared store and serves it to workers: `$store` requests run one
 * operation each, and watching workers are told about changes (`$storeChange` notifications).
 */
import { InvalidArgumentError } from '../../errors.js';
import { isStoreOperation, kStoreChangeNotice, kStoreRequest, type StoreChangePayload, type StoreOperation } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import { SharedStore, type StoreChange } from './shared-store.js';
import type { WorkerRecord } from '../pool/worker-record.js';

export function serveStore({ options, system, emit }: Pick<PrimaryContext, 'options' | 'system' | 'emit'>): SharedStore {
  /** Workers watching each key; a record leaves when it exits (lazily, at the next change). */
  const watchers = new Map<string, Set<WorkerRecord>>();
  const store = new SharedStore(options.serialization, options.maxMessageBytes, (change: StoreChange) => {
    emit('storeChange', change);
    notifyWatchers(watchers, change);
  });
  system.register(kStoreRequest, { kind: 'request', check: isStoreOperation, handle: (operation, record) => runOperation(store, watchers, record, operation) });
  return store;
}

function runOperation(store: SharedStore, watchers: Map<string, Set<WorkerRecord>>, record: WorkerRecord, operation: StoreOperation): unknown {
  const source = record.handle;
  switch (operation.op) {
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
      throw new InvalidArgumentError(`Unknown store operation ${JSON.stringify((operation as { op: unknown }).op)}.`);
  }
}

function notifyWatchers(watchers: Map<string, Set<WorkerRecord>>, change: StoreChange): void {
  const set = watchers.get(change.key);
  if (!set) return;
  const notice: StoreChangePayload = { key: change.key, value: change.value, previous: change.previous, deleted: change.deleted };
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
