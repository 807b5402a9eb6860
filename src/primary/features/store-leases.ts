/**
 * Keys tied to a worker's life: written by a worker with `{ ephemeral: true }`, removed (with a
 * `storeChange` whose `source` is that worker) when it exits, however it exits. Like an
 * ephemeral node in ZooKeeper or a key under an etcd lease: what a leader election needs, since
 * a SIGKILLed leader cannot clean up after itself.
 *
 * A key is tied to the worker that last wrote it ephemerally. Any other write unties it (a
 * plain `set`, a `compareAndSet` without `ephemeral`, a `delete`, from a worker or the
 * primary), except `increment`, which changes the value and keeps the tie (as Redis `INCR`
 * keeps a key's expiry).
 */
import type { WorkerRecord } from '../pool/worker-record.js';

export class StoreLeases {
  /** The owner of each tied key. */
  readonly #owners = new Map<string, WorkerRecord>();
  /** The keys each worker owns; a worker is here from its first ephemeral write to its exit. */
  readonly #keys = new Map<WorkerRecord, Set<string>>();

  /** @param remove deletes a key whose owner exited, naming the owner as the change's source. */
  constructor(private readonly remove: (key: string, owner: WorkerRecord) => void) {}

  /** Keys tied to a live worker now. */
  get size(): number {
    return this.#owners.size;
  }

  /** Ties `key` to `record` (after its write). */
  tie(key: string, record: WorkerRecord): void {
    this.untie(key);
    let keys = this.#keys.get(record);
    if (!keys) {
      this.#keys.set(record, (keys = new Set()));
      void record.whenExited.promise.then(() => this.#release(record));
    }
    keys.add(key);
    this.#owners.set(key, record);
  }

  /** Unties `key`, if it was tied: it now outlives its writer. */
  untie(key: string): void {
    const owner = this.#owners.get(key);
    if (!owner) return;
    this.#owners.delete(key);
    this.#keys.get(owner)?.delete(key);
  }

  #release(record: WorkerRecord): void {
    const keys = this.#keys.get(record) ?? new Set<string>();
    this.#keys.delete(record);
    for (const key of keys) {
      // Untied meanwhile: a 'storeChange' listener told of an earlier key's removal wrote this
      // one (hostile t84 #4: `leaderInfo` set to "vacant" as `leader` went, then deleted as the
      // worker's). The set is detached, so untie() reaches only the owner map.
      if (this.#owners.get(key) !== record) continue;
      this.#owners.delete(key);
      this.remove(key, record);
    }
  }
}
