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
