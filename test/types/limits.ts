// Compile-only checks for the limits issue 11 added (run by `tsc --noEmit`): the worker ceiling
// and durations on the primary, the runner and the config file.
import { ClusterPrimary, defineConfig, startClusteredService } from '../../src/index.js';

const primary = new ClusterPrimary({ workerCount: 'auto', maxWorkers: 128, readyTimeoutMs: Number.POSITIVE_INFINITY });
const ceiling: number = primary.options.maxWorkers;
void ceiling;
// @ts-expect-error maxWorkers is a number ('auto' is for workerCount)
new ClusterPrimary({ maxWorkers: 'auto' });

void startClusteredService({ workerModule: './server.js', workers: 8, maxWorkers: 16 });

defineConfig({ apps: [{ script: './server.js', workers: 100, maxWorkers: 128, readyTimeout: '596h' }] });
// @ts-expect-error maxWorkers is a number
defineConfig({ apps: [{ script: './server.js', maxWorkers: 'max' }] });
