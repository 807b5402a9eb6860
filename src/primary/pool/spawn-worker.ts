/**
 * Forks one worker process. `node:cluster` keeps fork settings process-wide and merges them
 * cumulatively, so every setting is passed explicitly right before each fork: several primaries
 * in one process (as in tests) never inherit each other's settings.
 */
import cluster, { type Worker as ClusterWorkerProcess } from 'node:cluster';
import { statSync } from 'node:fs';
import { WorkerStartupError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import type { NormalizedPrimaryOptions } from '../primary-options.js';
import type { SlotSpec } from './slot.js';
import { isBulkAvailable, stdioWithBulk } from '../../messaging/bulk-channel.js';
import { kBulkFdEnv, kNameEnv, kPrimaryMaxMessageBytesEnv, kPrimaryPidEnv, kSerializationEnv, kSlotEnv, kRolesEnv, kShutdownTimeoutEnv, kWatchdogEnv } from '../../worker-env.js';

/**
 * `env`: the workers' `env` option in force (the primary's, or the last `reload({ env })`'s, H336).
 * `isWatchdogEarly`: the worker starts its orphan watchdog at once, without waiting to be armed.
 * @throws {WorkerStartupError} (`reason: 'spawn-failed'`, no `workerId`) when the operating system
 *   refuses the process at once (an environment or arguments too large: `E2BIG`); Node throws
 *   those rather than emitting 'error' as it does for ENOENT.
 */
export function spawnWorker(options: NormalizedPrimaryOptions, workerEnv: Readonly<Record<string, string | undefined>>, slotIndex: number, spec: SlotSpec, isWatchdogEarly = false): ClusterWorkerProcess {
  // The bulk pipe (messaging/bulk-channel.ts) is one more stdio entry, after the user's.
  const stdio = isBulkAvailable(options.serialization) ? stdioWithBulk(options.stdio, options.silent) : options.stdio;
  cluster.setupPrimary({
    exec: options.workerScript,
    args: [...options.workerArgs],
    execArgv: [...options.execArgv],
    silent: options.silent,
    stdio,
    serialization: options.serialization,
    cwd: options.cwd,
    windowsHide: true,
  });
  // clusterkit's own variables come last, each one set or removed (`undefined`), whatever the
  // `env` options or the primary's own environment hold: a worker must believe what the primary
  // believes about it (its name and roles come from `fork({ name, roles })`).
  const env: Record<string, string | undefined> = {
    ...workerEnv,
    ...spec.env,
    [kSlotEnv]: String(slotIndex),
    [kPrimaryPidEnv]: String(process.pid),
    [kSerializationEnv]: options.serialization,
    [kPrimaryMaxMessageBytesEnv]: Number.isFinite(options.maxMessageBytes) ? String(options.maxMessageBytes) : undefined,
    [kNameEnv]: spec.name,
    [kRolesEnv]: spec.roles.length > 0 ? spec.roles.join(',') : undefined,
    [kWatchdogEnv]: isWatchdogEarly ? 'early' : undefined,
    // An orphan drains for the cluster's own shutdown timeout, not the worker's destroyTimeoutMs (H397).
    [kShutdownTimeoutEnv]: String(options.shutdownTimeoutMs),
    [kBulkFdEnv]: stdio !== options.stdio && stdio !== undefined ? String(stdio.length - 1) : undefined,
  };
  // PM2's instance_var (NODE_APP_INSTANCE under `clusterkit run`), unless the user's env sets it.
  // PM2's own name too, `instance_var: 'INSTANCE_ID'` (H409): each one of the list.
  for (const instanceVar of options.instanceVar ?? []) {
    if (!Object.hasOwn(workerEnv, instanceVar) && !Object.hasOwn(spec.env, instanceVar)) env[instanceVar] = String(slotIndex);
  }
  try {
    return cluster.fork(env);
  } catch (error) {
    const argv = [process.execPath, ...options.execArgv, options.workerScript, ...options.workerArgs];
    const reason = describeSpawnError(error as Error, options.cwd, { env: { ...process.env, ...env }, argv });
    throw new WorkerStartupError(undefined, 'spawn-failed', `The worker of slot ${slotIndex} could not be spawned: ${reason}`, { cause: error });
  }
}

/** What was handed to the operating system, to size it when it refuses (E2BIG). */
export interface SpawnInput {
  env: Record<string, string | undefined>;
  argv: readonly string[];
}

/** Linux's MAX_ARG_STRLEN: the most one `NAME=value` string or argument may take, its NUL included. */
const kMaxArgStringBytes = 128 * 1024;

/**
 * Why a spawn failed. Node reports a missing working directory as `spawn /usr/bin/node ENOENT`,
 * which blames node: the `cwd` option, removed since it was checked, is named instead. A bare
 * `spawn E2BIG` says neither what is too big nor by how much: the sizes of `input` are given.
 */
export function describeSpawnError(error: Error, cwd: string | undefined, input?: SpawnInput): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (cwd !== undefined && code === 'ENOENT' && !isDirectory(cwd)) {
    return `its working directory ${cwd} (option "cwd") no longer exists (${error.message})`;
  }
  if (code === 'E2BIG' && input !== undefined) return describeTooBig(error, input);
  return error.message;
}

function describeTooBig(error: Error, { env, argv }: SpawnInput): string {
  let envBytes = 0;
  let count = 0;
  let largest = { name: '', bytes: 0 };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const bytes = Buffer.byteLength(`${name}=${value}`) + 1;
    envBytes += bytes;
    count++;
    if (bytes > largest.bytes) largest = { name, bytes };
  }
  const argBytes = argv.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
  const largestArg = Math.max(0, ...argv.map((arg) => Buffer.byteLength(arg) + 1));
  // One string over Linux's limit for a single one is the culprit. Otherwise it is the total:
  // the side with most of it, or both when each has a real share (at least a tenth).
  const culprit: 'env' | 'args' | 'both' =
    Math.max(largest.bytes, largestArg) > kMaxArgStringBytes
      ? largestArg > largest.bytes
        ? 'args'
        : 'env'
      : Math.min(envBytes, argBytes) >= (envBytes + argBytes) / 10
        ? 'both'
        : argBytes > envBytes
          ? 'args'
          : 'env';
  const what = {
    args: `its arguments (${formatBytes(argBytes)}) are`,
    env: 'its environment is',
    both: `its environment and arguments together (${formatBytes(envBytes + argBytes)}) are`,
  }[culprit];
  const argsAdvice = 'the "workerArgs" and "execArgv" options (clusterkit run: the arguments after the script, --node-arg)';
  const envAdvice = 'the "env" option (clusterkit run: --env, --env-file) or the inherited environment';
  const advice = {
    args: `Shrink ${argsAdvice}; pass large values in a file and its path as the argument.`,
    env: `Shrink ${envAdvice}; pass large values in a file and put its path in the environment.`,
    both: `Shrink ${envAdvice}, or ${argsAdvice}; pass large values in a file and its path instead.`,
  }[culprit];
  return (
    `${what} too large for the operating system (${error.message}): the environment is ${formatBytes(envBytes)} in ${count} variables, ` +
    `the largest "${largest.name}" at ${formatBytes(largest.bytes)}, and the arguments ${formatBytes(argBytes)}. Linux refuses one variable or ` +
    `argument over ${kMaxArgStringBytes / 1024} KiB, and all of them together over a quarter of the stack limit (ulimit -s; often 2 MiB in all). ` +
    advice
  );
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
