/**
 * The launcher (`clusterkit run` of a config file's apps) that started a primary's process, as
 * its link to it (cli/launcher-link.ts) records it: the `shutting down` line of a primary stopped
 * because its launcher is gone names its pid (H337). Once the launcher is gone, `process.ppid`
 * no longer does (the process has a new parent), so the pid is taken while the link is made.
 */
const launcherPids = new WeakMap<object, number>();

/** Records the pid of the launcher that started the process of `primary`. */
export function setLauncherPid(primary: object, pid: number): void {
  launcherPids.set(primary, pid);
}

/** The pid of the launcher that started the process of `primary`, if one did. */
export function launcherPidOf(primary: object): number | undefined {
  return launcherPids.get(primary);
}
