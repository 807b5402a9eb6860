/**
 * The worker bootstrap of `clusterkit run`: every worker runs this file with the user's
 * script as its first argument. It becomes a ClusterWorker whose `_init` runs the script
 * (so a script that throws is an init failure the primary reports), registers every server
 * the script listens on for draining, and reports ready once the script listens (or its
 * top-level code has finished); with `--wait-ready`, once the script calls
 * `process.send('ready')` (PM2's wait_ready, ready-message.ts). A script that listens for SIGINT or SIGTERM stops through its
 * own listeners instead (`useScriptCleanup`). Kept small: it is what every worker loads first.
 */
import { usePromClientOf } from '../prom-client.js';
import cluster from 'node:cluster';
import { trackLineEnds } from '../line-start.js';
import { kRunScriptMarker } from '../runner/run-marker.js';
import { ServiceWorker } from '../runner/service-worker.js';
import { useScriptCleanup } from '../worker/script-cleanup.js';
import { useOrphanLog, useRaiseTimeoutWords } from '../worker/orphan-stop.js';
import { warnOfConfigExport } from './config-export.js';
import { kHealthPortEnv } from './health-port-env.js';
import { kOrphanLogEnv, readOrphanLogEnv } from './orphan-log-env.js';
import { kWaitReadyEnv, watchReadyMessage } from './ready-message.js';
import { guardScriptFrames } from './script-frame-guard.js';
import { loadScript } from './script-loader.js';

const script = process.argv[2];
if (!script) throw new Error('worker-main is started by "clusterkit run", with the script as its first argument.');
// The app's prom-client, not a copy beside clusterkit's (a global install): its default registry is the one collected (H533).
usePromClientOf(script);
// The script sees the command line it would see under plain node: [node, script, ...args].
process.argv.splice(1, 2, script);
(globalThis as Record<symbol, unknown>)[kRunScriptMarker] = true;
// clusterkit's own lines in the worker's output start on a line of their own (H385).
trackLineEnds(process.stdout);
trackLineEnds(process.stderr);
// The bootstrap owns the channel: the script cannot write clusterkit's frames (H233).
guardScriptFrames();
// A script with its own SIGINT/SIGTERM listeners stops through them, as under PM2.
useScriptCleanup();
// `--wait-ready` is told through the environment; the script's environment is as without it.
const waitsForReady = process.env[kWaitReadyEnv] === '1';
delete process.env[kWaitReadyEnv];
// `--health-port`: the primary's own port; a script that listens on it is told so (H110).
const healthPort = process.env[kHealthPortEnv] === undefined ? undefined : Number(process.env[kHealthPortEnv]);
delete process.env[kHealthPortEnv];
// The log files that get this worker's stderr, or the control directory's file for its name:
// an orphan writes its own lines there (H397, H417).
const orphanLog = readOrphanLogEnv(process.env[kOrphanLogEnv], cluster.worker?.id);
delete process.env[kOrphanLogEnv];
if (orphanLog) useOrphanLog(orphanLog.files, orphanLog.render, orphanLog.linesFile);
if (orphanLog?.raiseTimeout !== undefined) useRaiseTimeoutWords(orphanLog.raiseTimeout);
// Watched only with --wait-ready: the wrapper sits on the script's process.send (clusterkit's
// frames go through its own port, process-port.ts). Without the flag the message reaches the primary as it is, and `run` tells a script
// that sends it about the flag from there.
const scriptReady = waitsForReady ? watchReadyMessage() : undefined;

await new ServiceWorker({
  module: { path: script, noun: 'script' },
  load: async () => {
    const { namespace } = await loadScript(script);
    // A config file run as a script serves nothing: say so (config-export.ts).
    warnOfConfigExport(script, namespace);
    return { namespace: namespace as object };
  },
  requireExports: false,
  trackServers: true,
  readyOnListen: true,
  readySignal: scriptReady,
  endImportOnStop: true,
  healthPort,
}).start();
