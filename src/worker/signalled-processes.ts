/**
 * The processes a worker's own cleanup (end-descendants.ts) has signalled, or is about to,
 * shared with its orphan watchdog thread (orphan-watchdog.ts): if the worker is killed midway
 * (its loop blocked, or slower than the watchdog's grace on a loaded machine), the watchdog
 * SIGKILLs them too. Its own look at the worker's tree misses one the cleanup's SIGTERM already
 * handed to init: a grandchild under a `sh` that the SIGTERM ended (H182).
 *
 * Each is `<pid>:<start time>` (the start time, in clock ticks since boot, tells the process
 * from a later one given the same pid), written as two BigInt64 slots; the count is published
 * with `Atomics.store` after them, so the thread never reads a half-written entry. A fixed
 * capacity: past `kSignalledCapacity`, later processes are left to the watchdog's tree walk
 * (which finds them while they are still in the worker's tree) and to the cleanup itself.
 *
 * Its last slot says who may resume (SIGCONT) what is stopped: the cleanup resumes its tree
 * after the SIGTERM, the watchdog freezes it to SIGKILL it. Both at once, the cleanup resumed a
 * shell loop that ignores SIGTERM between the watchdog's freeze and its kill, and what the
 * shell started meanwhile went to init (hostile tester t24, H216). Once the watchdog has
 * claimed the slot, the cleanup resumes nothing more.
 */

/** Processes the list holds at most. */
export const kSignalledCapacity = 4_096;

/** The slot after the list: free, the cleanup sending one SIGCONT, or the watchdog's kill begun. */
const kResumeSlot = 1 + 2 * kSignalledCapacity;
const kResuming = 1n;

let shared: BigInt64Array | undefined;
const recorded = new Set<string>();

/** The list for the watchdog thread (`signalledIn`); from now on the worker's cleanup records into it. */
export function shareSignalledList(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT * (kResumeSlot + 1));
  shared = new BigInt64Array(buffer);
  recorded.clear();
  return buffer;
}

/** Adds processes (`<pid>:<start time>`) the cleanup is about to signal; nothing without a watchdog. */
export function recordSignalled(identities: readonly string[]): void {
  if (!shared) return;
  for (const identity of identities) {
    if (recorded.size >= kSignalledCapacity) return;
    if (recorded.has(identity)) continue;
    const [pid, startTime] = identity.split(':');
    if (!/^\d+$/.test(pid ?? '') || !/^\d+$/.test(startTime ?? '')) continue; // no start time: could not be told from a later process
    const index = recorded.size;
    shared[1 + 2 * index] = BigInt(pid!);
    shared[2 + 2 * index] = BigInt(startTime!);
    Atomics.store(shared, 0, BigInt(index + 1));
    recorded.add(identity);
  }
}

/**
 * The processes in a list `shareSignalledList` made, as `<pid>:<start time>`. Self-contained
 * (no import, no closure): the watchdog thread runs its source.
 */
export function signalledIn(buffer: SharedArrayBuffer): string[] {
  const list = new BigInt64Array(buffer);
  const count = Number(Atomics.load(list, 0));
  const identities: string[] = [];
  for (let index = 0; index < count; index++) identities.push(`${list[1 + 2 * index]}:${list[2 + 2 * index]}`);
  return identities;
}

/**
 * Runs `resume` (the cleanup's SIGCONT to one process) unless the watchdog has begun its kill
 * (`claimKill`); returns what it returned, false if it did not run. Without a watchdog, it runs.
 */
export function resumeUnlessKilling(resume: () => boolean): boolean {
  if (!shared) return resume();
  if (Atomics.compareExchange(shared, kResumeSlot, 0n, kResuming) !== 0n) return false;
  try {
    return resume();
  } finally {
    // Not a plain store: a watchdog that tired of waiting has claimed the slot, and keeps it.
    Atomics.compareExchange(shared, kResumeSlot, kResuming, 0n);
    Atomics.notify(shared, kResumeSlot);
  }
}

/**
 * The watchdog's kill begins: from now on the cleanup resumes nothing (`resumeUnlessKilling`).
 * Waits out a SIGCONT the cleanup is sending (one syscall), at most 1 s: a worker stopped right
 * there must not hold its watchdog. Self-contained (no import, no closure): the watchdog thread
 * runs its source.
 */
export function claimKill(buffer: SharedArrayBuffer): void {
  const list = new BigInt64Array(buffer);
  const slot = list.length - 1;
  const deadline = Date.now() + 1_000;
  while (Atomics.compareExchange(list, slot, 0n, 2n) === 1n) {
    if (Date.now() >= deadline) {
      Atomics.store(list, slot, 2n);
      return;
    }
    Atomics.wait(list, slot, 1n, 10);
  }
}
