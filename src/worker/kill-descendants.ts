/**
 * The processes a worker started itself (a `child_process.spawn()`, and theirs in turn), ended
 * when the worker ends, however it ends: re-parented to init once it is gone, nobody would stop
 * them (end-descendants.ts). PM2 kills a process's tree the same way when it stops it (`treekill`).
 *
 * Found by their parent pid in /proc (Linux), read while the worker is still alive: a process
 * whose parent is the worker, or one of its descendants, was started by it, so nothing else is
 * touched (not the user's shell, not the primary's other workers, which share the worker's
 * process group), and a process in a session of its own (a child started with `detached: true`,
 * one that ran `setsid`, a daemon) is left to live on, as Node documents for `detached`: it is
 * added to `ownSessions`, when given, to be named (H309). A process that left the tree (a daemon that double-forked, now a child of
 * init) is not found, nor are descendants on systems without /proc (macOS, Windows):
 * docs/supervision.md, "Orphans", says what covers those (systemd's KillMode=control-group, a
 * container).
 *
 * Self-contained (no import, no closure): the watchdog thread runs its source too
 * (orphan-watchdog.ts). Returns the processes it signalled, each as `<pid>:<start time>` (the
 * start time, in clock ticks since boot, tells a process from a later one given the same pid).
 * Signal 0 sends nothing: the primary lists a worker's descendants before it SIGKILLs the worker.
 *
 * `listed` (`<pid>:<start time>`, the watchdog's: signalled-processes.ts) are signalled too if
 * still the same processes, with what they started: the worker's cleanup signalled them, and may
 * have handed them to init already, out of the tree (H182).
 */
export function killDescendants(rootPid: number, signal: NodeJS.Signals | 0, listed: readonly string[] = [], ownSessions?: string[]): string[] {
  const fs = process.getBuiltinModule('node:fs');
  // Every worker's exit asks, and most have no process of their own: where the kernel lists each
  // thread's children (CONFIG_PROC_CHILDREN), none there means none at all, without reading
  // every process's stat (10 to 50 ms on a busy machine). Elsewhere the scan below tells.
  if (listed.length === 0) {
    try {
      const tasks = fs.readdirSync(`/proc/${rootPid}/task`);
      if (tasks.every((task) => fs.readFileSync(`/proc/${rootPid}/task/${task}/children`, 'latin1').trim() === '')) return [];
    } catch {
      // not listed by this kernel
    }
  }
  const children = new Map<number, number[]>();
  const sessions = new Map<number, number>();
  const startTimes = new Map<number, string>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return []; // no /proc: nothing to find
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // `pid (comm) state ppid pgrp session ...`: comm may hold spaces and parentheses, so read
    // after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited already (its parent has not reaped it yet): nothing to end, nor to wait for.
    if (fields[0] === 'Z') continue;
    const parentPid = Number(fields[1]);
    sessions.set(Number(entry), Number(fields[3]));
    startTimes.set(Number(entry), fields[19] ?? '');
    const list = children.get(parentPid);
    if (list) list.push(Number(entry));
    else children.set(parentPid, [Number(entry)]);
  }
  // A process in a session of its own (`detached: true`, `setsid`, a daemon) may be meant to go
  // on after its parent, as Node documents for `detached`: it (and what it started) is left alone.
  const rootSession = sessions.get(rootPid);
  const found = new Set<number>();
  const others = new Set<number>();
  const queue = [...(children.get(rootPid) ?? [])];
  for (const identity of listed) {
    const [pid, startTime] = identity.split(':');
    // Gone, a zombie (not in the maps), or a new process given its pid: not ours.
    if (startTimes.get(Number(pid)) !== startTime) continue;
    found.add(Number(pid));
    queue.push(...(children.get(Number(pid)) ?? []));
  }
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (pid === rootPid || found.has(pid)) continue;
    if (sessions.get(pid) !== rootSession) {
      others.add(pid);
      continue;
    }
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  for (const pid of others) if (!found.has(pid)) ownSessions?.push(`${pid}:${startTimes.get(pid)}`);
  const signalled: string[] = [];
  for (const pid of found) {
    try {
      process.kill(pid, signal);
      signalled.push(`${pid}:${startTimes.get(pid)}`);
    } catch {
      // already gone
    }
  }
  return signalled;
}

/**
 * The freeze of a process tree before it is killed: look after look at /proc, until one finds
 * no process it had not stopped (SIGSTOP), at most 8. A stopped process forks no more and its
 * children stay its own, so what one started between two looks is found by the next. `find`
 * lists the tree's processes not in `stopped` yet (`<pid>:<start time>`), `stop` signals them
 * and returns those it stopped; each look that finds any goes on, even if all were gone by its
 * signal. Returns `stopped`, with them added. The watchdog thread's kill (below) and the
 * worker's own (end-descendants.ts) both run it. Self-contained, as `killDescendants`: the
 * watchdog thread runs its source (orphan-watchdog.ts).
 */
export function freezeLooks(stopped: Set<string>, find: (stopped: ReadonlySet<string>) => readonly string[], stop: (found: readonly string[]) => readonly string[]): Set<string> {
  // Here, not a module constant: the thread runs this source alone.
  const maxLooks = 8;
  for (let look = 0; look < maxLooks; look++) {
    const found = find(stopped);
    if (found.length === 0) break;
    for (const identity of stop(found)) stopped.add(identity);
  }
  return stopped;
}

/**
 * The watchdog thread's kill: the worker's processes (and `listed`, as `killDescendants` takes
 * them) are frozen first (`freeze`: `freezeLooks`), then SIGKILLed, each still the process it
 * stopped. SIGKILLed while running, a shell loop forked between the look at /proc and its own
 * SIGKILL, and that child went to init: a dozen `sleep`s per worker whose primary was SIGKILLed
 * (newcomer t23, H196), where the worker's own paths leave none since H174. Self-contained, as
 * `killDescendants` and `freezeLooks`, which it is given: the watchdog thread runs the source of
 * all three (orphan-watchdog.ts).
 */
export function killDescendantsFrozen(rootPid: number, walk: typeof killDescendants, freeze: typeof freezeLooks, listed: readonly string[] = []): void {
  // `walk` stops what it finds, so `stop` has only to return it.
  const find = (stopped: ReadonlySet<string>) => walk(rootPid, 'SIGSTOP', listed).filter((identity) => !stopped.has(identity));
  const stopped = freeze(new Set<string>(), find, (found) => found);
  // Those stopped are listed: one may have left the tree since (the worker's own thread may be
  // ending its parent meanwhile).
  walk(rootPid, 'SIGKILL', [...listed, ...stopped]);
}
