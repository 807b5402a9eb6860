/**
 * Environment variables the primary sets in each worker.
 */

/** Slot number, kept across restarts (like PM2's `NODE_APP_INSTANCE`). */
export const kSlotEnv = 'CLUSTERKIT_SLOT';
/** The worker's name, when forked with one. */
export const kNameEnv = 'CLUSTERKIT_NAME';
/** The worker's roles (`fork({ roles })`), comma-separated. */
export const kRolesEnv = 'CLUSTERKIT_ROLES';
/** The channel's serialization, which Node does not tell the child (it deletes its own variable). */
export const kSerializationEnv = 'CLUSTERKIT_SERIALIZATION';
/**
 * The primary's `maxMessageBytes`: the most it reads in one message from a worker (see
 * channel-guard.ts). A worker's own limit for what it sends the primary is never above it, so a
 * message the primary would not read is refused in the worker with `MessageTooLargeError`.
 */
export const kPrimaryMaxMessageBytesEnv = 'CLUSTERKIT_PRIMARY_MAX_MESSAGE_BYTES';
/**
 * `early`: start the orphan watchdog with the worker, not when the primary arms it. Set for the
 * workers forked after the initial ones (see worker-pool.ts).
 */
export const kWatchdogEnv = 'CLUSTERKIT_WATCHDOG';
/**
 * The descriptor number of the worker's bulk pipe (messaging/bulk-channel.ts), when it has one.
 * Removed from the environment by the worker once read.
 */
export const kBulkFdEnv = 'CLUSTERKIT_BULK_FD';
/**
 * The pid of the primary that forked the worker. A worker whose parent is another process was
 * not forked by a ClusterPrimary, even with the variables above (every process a clusterkit
 * worker starts inherits them): `ClusterWorker.start()` refuses there (H135).
 */
export const kPrimaryPidEnv = 'CLUSTERKIT_PRIMARY_PID';
/**
 * The primary's `shutdownTimeoutMs`: how long the worker may take to stop on its own once its
 * primary is gone (an orphan drains its open requests for the cluster's shutdown timeout, as a
 * stop the primary asked for would, H397). Without it (a worker of an older primary), the
 * worker's `destroyTimeoutMs`.
 */
export const kShutdownTimeoutEnv = 'CLUSTERKIT_SHUTDOWN_TIMEOUT_MS';

/**
 * Every variable above: the primary sets or removes each in every worker after any `env`, so an
 * `env` naming one is refused (the library's options) or dropped with a warning (`clusterkit run`).
 */
export const kOwnEnvNames: readonly string[] = Object.freeze([kSlotEnv, kNameEnv, kRolesEnv, kSerializationEnv, kPrimaryMaxMessageBytesEnv, kWatchdogEnv, kBulkFdEnv, kPrimaryPidEnv, kShutdownTimeoutEnv]);

/**
 * The names of `env` that are clusterkit's own variables, in `env`'s order. A value equal to the
 * primary's own (`{ ...process.env, PORT: '3000' }` in a process whose parent was a clusterkit
 * worker) is the inherited environment spread in, not a choice: it is left to be replaced silently,
 * as the inherited variable itself is.
 */
export function ownEnvNamesIn(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env).filter((name) => kOwnEnvNames.includes(name) && env[name] !== undefined && env[name] !== process.env[name]);
}
