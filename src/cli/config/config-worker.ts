/**
 * The worker thread that loads a config file (config-loader.ts): `workerData` is
 * `{ path, argv }`; it posts one `LoadAnswer`, then the CLI ends it. Built as
 * dist/cli/config-worker.js, next to the CLI bundle.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfigHere } from './config-loader.js';

const { path, argv } = workerData as { path: string; argv: string[] };
// The config sees the command line it was started with, as in the CLI's own thread.
process.argv = argv;
parentPort!.postMessage(await loadConfigHere(path));
