/**
 * Every process on the machine (Linux /proc) with its parent, session and start time: what a
 * worker's tree is found in. Read at once (`readProcessTableNow`: a worker's own exit, which
 * blocks only itself) or in time slices (`readProcessTable`: the primary, whose event loop
 * serves everything else; one `/proc/<pid>/stat` read per process on the machine took it 0.9 s
 * with 2 000 of a worker's processes, H159). `killDescendants` (kill-descendants.ts) reads the
 * same fields itself: the watchdog thread runs its source alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { TimeSlicer } from '../time-slicer.js';

export interface ProcessTable {
  /** Pids by their parent's pid. */
  readonly children: Map<number, number[]>;
  readonly sessions: Map<number, number>;
  /** In clock ticks since boot: tells a process from a later one given the same pid. */
  readonly startTimes: Map<number, string>;
}

/** The table, read without a pause. */
export function readProcessTableNow(): ProcessTable {
  const table = emptyTable();
  for (const entry of processEntries()) addProcess(table, entry);
  return table;
}

/** The table, read in slices; past `deadline` (ms since the epoch) the rest is left out. */
export async function readProcessTable(deadline = Infinity): Promise<ProcessTable> {
  const table = emptyTable();
  const slicer = new TimeSlicer();
  for (const entry of processEntries()) {
    if (slicer.isDue) {
      if (Date.now() >= deadline) break;
      await slicer.pause();
    }
    addProcess(table, entry);
  }
  return table;
}

/**
 * The descendants of `roots` in `table`, as `<pid>:<start time>`, the roots left out. Each
 * stays in its root's session: a process in a session of its own (a child started with
 * `detached: true`, one that ran `setsid`, a daemon) may be meant to outlive its parent, so it
 * and its own are left alone (`treeIn` lists those).
 */
export function descendantsIn(table: ProcessTable, roots: readonly number[]): string[] {
  return treeIn(table, roots).descendants;
}

/**
 * As `descendantsIn`, with `ownSessions`: the processes of the tree left out for leading a
 * session of their own (the first of each such branch, not what they started), as
 * `<pid>:<start time>`. Nobody ends them: they are named instead (H309).
 */
export function treeIn(table: ProcessTable, roots: readonly number[]): { descendants: string[]; ownSessions: string[] } {
  const rootSet = new Set(roots);
  const found = new Set<number>();
  const others = new Set<number>();
  for (const root of roots) {
    const session = table.sessions.get(root);
    const queue = [...(table.children.get(root) ?? [])];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      if (rootSet.has(pid) || found.has(pid)) continue;
      if (table.sessions.get(pid) !== session) {
        others.add(pid);
        continue;
      }
      found.add(pid);
      queue.push(...(table.children.get(pid) ?? []));
    }
  }
  const identity = (pid: number) => `${pid}:${table.startTimes.get(pid)}`;
  return { descendants: [...found].map(identity), ownSessions: [...others].filter((pid) => !found.has(pid) && !rootSet.has(pid)).map(identity) };
}

/**
 * Whether the kernel says `pid` has no child (CONFIG_PROC_CHILDREN lists each thread's): then
 * it has no descendant either, known without reading every process's stat. False when the
 * kernel does not list them.
 */
export function hasNoChildren(pid: number): boolean {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.every((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').trim() === '');
  } catch {
    return false;
  }
}

function emptyTable(): ProcessTable {
  return { children: new Map(), sessions: new Map(), startTimes: new Map() };
}

function processEntries(): string[] {
  try {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return []; // no /proc: nothing to find
  }
}

function addProcess(table: ProcessTable, entry: string): void {
  const fields = statFields(Number(entry));
  if (fields === undefined) return; // gone meanwhile
  // A zombie has exited already: nothing to end, nor to wait for.
  if (fields[0] === 'Z') return;
  const pid = Number(entry);
  const parentPid = Number(fields[1]);
  table.sessions.set(pid, Number(fields[3]));
  table.startTimes.set(pid, fields[19] ?? '');
  const list = table.children.get(parentPid);
  if (list) list.push(pid);
  else table.children.set(parentPid, [pid]);
}

/**
 * The children `pid` has now (`<pid>:<start time>`, its session's only), read from its threads'
 * children lists without a look at every process: the primary's last look before its SIGKILL,
 * for a child the worker started while its descendants were being listed (tester t22). Empty
 * where the kernel does not list them. Those in a session of their own are added to
 * `ownSessions`, when given (H309).
 */
export function childrenNow(pid: number, ownSessions?: string[]): string[] {
  try {
    const session = statFields(pid)?.[3];
    const found: string[] = [];
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').split(' ')) {
        if (child === '') continue;
        const fields = statFields(Number(child));
        if (fields === undefined || fields[0] === 'Z') continue;
        if (fields[3] === session) found.push(`${child}:${fields[19]}`);
        else ownSessions?.push(`${child}:${fields[19]}`);
      }
    }
    return found;
  } catch {
    return [];
  }
}

/**
 * The command name of `pid` (`/proc/<pid>/comm`: at most 15 characters, as `ps` shows it), or
 * `?` when it cannot be read (gone, or not Linux).
 */
export function commandOf(pid: number): string {
  // A process sets its own name (prctl): control characters are escaped, as a log line needs.
  const command = readTextQuietly(`/proc/${pid}/comm`).replace(/\n$/, '');
  return command === '' ? '?' : command.replace(/[\x00-\x1f\x7f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Whether `pid` has exited but is not reaped yet (a zombie, or on its way out): it still answers
 * `kill(pid, 0)` and holds its pid, but runs nothing and lists no children. False when `/proc`
 * cannot say (gone, or not Linux): callers decide what an unknown state means.
 */
export function isZombie(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === 'Z' || state === 'X';
}

/** Clock ticks a second in `/proc` times: USER_HZ, 100 on every Linux architecture Node runs on. */
const kTicksPerSecond = 100;

/**
 * When `pid` started (ms since the epoch, to about 1 s: the boot time `/proc/stat` gives is in
 * whole seconds), or undefined when `/proc` cannot say (gone, or not Linux).
 */
export function processStartMs(pid: number): number | undefined {
  const ticks = Number(statFields(pid)?.[19]);
  const bootSeconds = Number(/^btime (\d+)$/m.exec(readTextQuietly('/proc/stat'))?.[1]);
  if (!Number.isFinite(ticks) || !Number.isFinite(bootSeconds) || bootSeconds === 0) return undefined;
  return bootSeconds * 1000 + (ticks * 1000) / kTicksPerSecond;
}

function readTextQuietly(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Whether `pid` is stopped by a signal (SIGSTOP, SIGTSTP: state T) or by a debugger (t): alive, but runs nothing until resumed. */
export function isPaused(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === 'T' || state === 't';
}

/** Whether `pid` is stopped (by a signal, or traced) or gone. */
export function isStopped(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === undefined || state === 'T' || state === 't' || state === 'Z' || state === 'X';
}

/**
 * The fields of `/proc/<pid>/stat` after its `(comm)` (state, ppid, pgrp, session, ...), or
 * undefined when it is gone: comm may hold spaces and parentheses, so they are read after the last ')'.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
