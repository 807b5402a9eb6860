/**
 * The exit code of a command aimed at a cluster that does not run (docs/cli.md, exit codes): 4.
 * `clusterkit logs` exits with it too when it printed what the orphaned workers of a killed
 * primary left, so a script tells a kill from a running cluster (H438).
 */
export const kExitNotRunning = 4;
