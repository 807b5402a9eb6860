/**
 * Creates the primary's shared store and serves it to workers: `$store` requests run one
 * operation each, watching workers are told about changes (`$storeChange` notifications,
 * coalesced under back-pressure: store-watchers.ts), and keys written with `ephemeral` are
 * removed when their worker exits (store-leases.ts).
 */
import { describeValue, InvalidArgumentError, InvalidStateError, StoreFullError, StoreWatchLimitError } from '../../errors.js';
import { isStoreOperation, kStoreRequest, type StoreOperation } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import { copyStoreValue, readStored, SharedStore, storedEntries, type StoreChange, writeAsWorker } from './shared-store.js';
import { StoreLeases } from './store-leases.js';
import { StoreWatchers } from './store-watchers.js';
import { ChangeQueue } from './change-queue.js';
import { toError } from '../../to-error.js';

export function serveStore({ options, system, emit, listens, reportWarning, lifecycle }: Pick<PrimaryContext, 'options' | 'system' | 'emit' | 'listens' | 'reportWarning' | 'lifecycle'>): SharedStore {
  const watchers = new StoreWatchers(reportWarning, options);
  const leases = new StoreLeases((key, owner) => {
    try {
      writeAsWorker.delete(store, key, owner.handle);
    } catch (error) {
      // Its listeners' runaway writes (change-queue.ts): said, never an unhandled rejection of the worker's exit.
      reportWarning(toError(error));
    }
  });
  const told = new ChangeQueue((change) => {
    // Listeners get copies (H297): the value is the stored object, and `previous` may still be
    // on its way to a watcher held back under back-pressure. Copied only when someone listens.
    if (listens('storeChange')) emit('storeChange', { ...change, value: copyStoreValue(change.value, options.serialization), previous: copyStoreValue(change.previous, options.serialization) });
    watchers.notify(change);
  });
  const store: SharedStore = new SharedStore(
    options,
    (change: StoreChange, isIncrement: boolean) => {
      if (!isIncrement) leases.untie(change.key);
      told.add(change);
    },
    () => ({ ephemeralKeys: leases.size, ...watchers.figures() }),
    () => lifecycle.state === 'stopped',
  );
  const handle = (operation: StoreOperation, record: WorkerRecord): unknown => {
    try {
      // A worker's ephemeral write is tied to it before anyone hears of it: a 'storeChange'
      // listener's own write of the key then unties it (hostile t83 #3: the tie came after, and
      // the primary's value went with the worker).
      return told.after(() => runOperation(store, watchers, leases, record, operation));
    } catch (error) {
      // The worker's call rejects with it; the operator hears of it too, since a worker may
      // swallow the rejection while the store stays full.
      if (error instanceof StoreFullError || error instanceof StoreWatchLimitError) emit('storeFull', { worker: record.handle, error });
      throw error;
    }
  };
  system.register(kStoreRequest, { kind: 'request', check: isStoreOperation, handle });
  return store;
}

function runOperation(store: SharedStore, watchers: StoreWatchers, leases: StoreLeases, record: WorkerRecord, operation: StoreOperation): unknown {
  const source = record.handle;
  switch (operation.op) {
    case 'get':
      // The stored value itself: the reply is serialized on its way, a copy would be a second one.
      return readStored(store, operation.key);
    case 'set':
      if (operation.ephemeral) checkAlive(record, operation.key);
      writeAsWorker.set(store, operation.key, operation.value, source, operation.ephemeral === true);
      if (operation.ephemeral) leases.tie(operation.key, record);
      return undefined;
    case 'delete':
      return writeAsWorker.delete(store, operation.key, source);
    case 'increment':
      return writeAsWorker.increment(store, operation.key, operation.by, source);
    case 'compareAndSet': {
      if (operation.ephemeral) checkAlive(record, operation.key);
      const isSet = writeAsWorker.compareAndSet(store, operation.key, operation.expected, operation.next, source, operation.ephemeral === true);
      if (isSet && operation.ephemeral && operation.next !== undefined) leases.tie(operation.key, record);
      return isSet;
    }
    case 'entries':
      return storedEntries(store, operation.prefix);
    case 'watch':
      store.has(operation.key); // validates the key
      watchers.watch(record, operation.key);
      return undefined;
    case 'unwatch':
      watchers.unwatch(record, operation.key);
      return undefined;
    default:
      throw new InvalidArgumentError(`Unknown store operation ${describeValue((operation as { op: unknown }).op)}.`);
  }
}

/** An ephemeral write from a worker that already exited would outlive it: refused. */
function checkAlive(record: WorkerRecord, key: string): void {
  if (record.state === 'exited') throw new InvalidStateError(`${record.describe()} exited; the ephemeral key "${key}" is not written.`);
}
