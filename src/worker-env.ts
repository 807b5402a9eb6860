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
