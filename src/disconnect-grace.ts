/**
 * How long a ClusterPrimary lets a worker whose IPC channel closed live without an exit before
 * it kills it (SIGKILL): such a worker can neither be reached nor stopped. The worker says it in
 * its line when its own code closed the channel (worker/orphan-stop.ts, H516).
 */
export const kDisconnectGraceMs = 1_000;
