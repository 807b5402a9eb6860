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
 */

/** Processes the list holds at most. */
export const kSignalledCapacity = 4_096;

let shared: BigInt64Array | undefined;
const recorded = new Set<string>();

/** The list for the watchdog thread (`signalledIn`); from now on the worker's cleanup records into it. */
export function shareSignalledList(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT * (1 + 2 * kSignalledCapacity));
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
