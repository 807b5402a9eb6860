/**
 * Forks one worker process. `node:cluster` keeps fork settings process-wide and merges them
 * cumulatively, so every setting is passed explicitly right before each fork: several primaries
 * in one process (as in tests) never inherit each other's settings.
 */
import cluster, { type Worker as ClusterWorkerProcess } from 'node:cluster';
import type { NormalizedPrimaryOptions } from '../primary-options.js';
import type { SlotSpec } from './slot.js';
import { kNameEnv, kSerializationEnv, kSlotEnv, kRolesEnv } from '../../worker-env.js';


export function spawnWorker(options: NormalizedPrimaryOptions, slotIndex: number, spec: SlotSpec): ClusterWorkerProcess {
  cluster.setupPrimary({
    exec: options.workerScript,
    args: [...options.workerArgs],
    execArgv: [...options.execArgv],
    silent: options.silent,
    stdio: options.stdio,
    serialization: options.serialization,
    cwd: options.cwd,
    windowsHide: true,
  });
  const env: Record<string, string | undefined> = {
    ...options.env,
    ...spec.env,
    [kSlotEnv]: String(slotIndex),
    [kSerializationEnv]: options.serialization,
  };
  if (spec.name !== undefined) env[kNameEnv] = spec.name;
  if (spec.roles.length > 0) env[kRolesEnv] = spec.roles.join(',');
  return cluster.fork(env);
}
