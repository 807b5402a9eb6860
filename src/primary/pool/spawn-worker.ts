/**
 * Forks one worker process. `node:cluster` keeps fork settings process-wide and merges them
 * cumulatively, so every setting is passed explicitly right before each fork: several primaries
 * in one process (as in tests) never inherit each other's settings.
 */
import cluster, { type Worker as ClusterWorkerProcess } from 'node:cluster';
import { statSync } from 'node:fs';
import type { NormalizedPrimaryOptions } from '../primary-options.js';
import type { SlotSpec } from './slot.js';
import { kNameEnv, kSerializationEnv, kSlotEnv, kRolesEnv, kWatchdogEnv } from '../../worker-env.js';

/** `isWatchdogEarly`: the worker starts its orphan watchdog at once, without waiting to be armed. */
export function spawnWorker(options: NormalizedPrimaryOptions, slotIndex: number, spec: SlotSpec, isWatchdogEarly = false): ClusterWorkerProcess {
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
  // PM2's instance_var (NODE_APP_INSTANCE under `clusterkit run`), unless the user's env sets it.
  const { instanceVar } = options;
  if (instanceVar !== undefined && !Object.hasOwn(options.env, instanceVar) && !Object.hasOwn(spec.env, instanceVar)) env[instanceVar] = String(slotIndex);
  if (spec.name !== undefined) env[kNameEnv] = spec.name;
  if (spec.roles.length > 0) env[kRolesEnv] = spec.roles.join(',');
  if (isWatchdogEarly) env[kWatchdogEnv] = 'early';
  return cluster.fork(env);
}

/**
 * Why a spawn failed. Node reports a missing working directory as `spawn /usr/bin/node ENOENT`,
 * which blames node: the `cwd` option, removed since it was checked, is named instead.
 */
export function describeSpawnError(error: Error, cwd: string | undefined): string {
  if (cwd !== undefined && (error as NodeJS.ErrnoException).code === 'ENOENT' && !isDirectory(cwd)) {
    return `its working directory ${cwd} (option "cwd") no longer exists (${error.message})`;
  }
  return error.message;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
