// Compile-only checks for the limits issue 11 added (run by `tsc --noEmit`): the worker ceiling
// and durations on the primary, the runner and the config file.
import { ClusterPrimary, defineConfig, startClusteredService, StoreFullError, StoreWatchLimitError } from '../../src/index.js';

const primary = new ClusterPrimary({ workerCount: 'auto', maxWorkers: 128, readyTimeoutMs: Number.POSITIVE_INFINITY });
const ceiling: number = primary.options.maxWorkers;
void ceiling;
// @ts-expect-error maxWorkers is a number ('auto' is for workerCount)
new ClusterPrimary({ maxWorkers: 'auto' });

void startClusteredService({ workerModule: './server.js', workers: 8, maxWorkers: 16 });

defineConfig({ apps: [{ script: './server.js', workers: 100, maxWorkers: 128, readyTimeout: '596h' }] });
// @ts-expect-error maxWorkers is a number
defineConfig({ apps: [{ script: './server.js', maxWorkers: 'max' }] });

// The shared store's budget: byte and key limits on the primary and the runner, and the error
// both sides get, narrowed by `instanceof` or by `code`.
const budgeted = new ClusterPrimary({ maxStoreBytes: 256 * 1024 * 1024, maxStoreKeys: Number.POSITIVE_INFINITY });
const storeBytes: number = budgeted.store.bytes;
const storeBudget: number = budgeted.options.maxStoreBytes;
const storeKeyLimit: number = budgeted.options.maxStoreKeys;
const watchLimit: number = new ClusterPrimary({ maxStoreWatchesPerWorker: 100 }).options.maxStoreWatchesPerWorker;
void watchLimit;
void [storeBytes, storeBudget, storeKeyLimit];
// @ts-expect-error maxStoreBytes is a number of bytes, not a size string
new ClusterPrimary({ maxStoreBytes: '64MB' });
void startClusteredService({ workerModule: './server.js', maxStoreBytes: 1024 * 1024, maxStoreKeys: 10_000 });

function onStoreError(error: unknown): string | undefined {
  if (error instanceof StoreFullError) {
    const option: 'maxStoreBytes' | 'maxStoreKeys' = error.option;
    const code: 'ERR_STORE_FULL' = error.code;
    const figures: number[] = [error.limit, error.usedBytes, error.keyCount, error.writeBytes];
    void [option, code, figures];
    return error.key;
  }
  if (error instanceof StoreWatchLimitError) {
    const code: 'ERR_STORE_WATCH_LIMIT' = error.code;
    const watchOption: 'maxStoreBytes' | 'maxStoreWatchesPerWorker' = error.option;
    void watchOption;
    const figures: number[] = [error.limit, error.watchedKeys, error.watchedBytes];
    void [code, figures];
    return error.key;
  }
  return undefined;
}
void onStoreError;
// @ts-expect-error the budget option is one of two names
const wrongOption: StoreFullError['option'] = 'maxMessageBytes';
void wrongOption;
