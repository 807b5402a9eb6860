/**
 * The status a primary reports over its control socket.
 */
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { ClusterStatus, OptionNames } from './control-protocol.js';
import { lastReloadOf } from './last-reload.js';

export interface StatusSource {
  readonly name: string;
  readonly script: string;
  readonly startedAt: number;
  targetWorkers(): number;
  /** How the answer names the primary's options (H363): `flags` for `clusterkit run`'s; `api` (the default) for a primary of the user's own code. */
  readonly optionNames?: OptionNames | undefined;
}

export function clusterStatus(primary: ClusterPrimary, source: StatusSource): ClusterStatus {
  const now = Date.now();
  const workers = primary.stats();
  // Ready and answering the heartbeat: a silent worker serves nobody (as `status` counts).
  // One that closed every server it listened on accepts nothing (retest t52: status said ready, /readyz closed).
  const readyWorkers = workers.filter((worker) => worker.state === 'ready' && !worker.isSilent && !worker.isClosed).length;
  const failingSlots = primary.failingSlots();
  // No worker ready while slots fail and restart: the service is down, not `running` (H396).
  const state = primary.state === 'running' && readyWorkers === 0 && failingSlots.length > 0 ? 'restarting' : primary.state;
  return {
    name: source.name,
    pid: process.pid,
    state,
    startedAt: source.startedAt,
    uptimeMs: now - source.startedAt,
    script: source.script,
    cwd: process.cwd(),
    targetWorkers: source.targetWorkers(),
    maxWorkers: primary.options.maxWorkers,
    nodeVersion: process.version,
    workers,
    givenUpSlots: primary.givenUpSlots(),
    failingSlots,
    readyWorkers,
    protocolErrors: workers.reduce((total, worker) => total + worker.protocolErrors, 0),
    store: primary.store.stats(),
    optionNames: source.optionNames ?? 'api',
    ...lastReloadField(primary),
  };
}

/** `lastReload`, when the primary ran one since its events were recorded (H529). */
function lastReloadField(primary: ClusterPrimary): Pick<ClusterStatus, 'lastReload'> {
  const last = lastReloadOf(primary);
  return last === undefined ? {} : { lastReload: last };
}
