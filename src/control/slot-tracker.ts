/**
 * Which worker serves each slot, and what became of the workers that no longer do, for
 * `clusterkit logs --slot` and `--worker`: built from the primary's events (`slotChange`,
 * `workerExit`, `crashLoop`...), so the slot of a log line and the notes a reader gets come
 * from the primary, never from what a client or a worker says. No I/O; bounded memory: one
 * entry per live slot, and the fates of the last `kKeptFates` workers.
 */
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { PrimaryEvents } from '../primary/primary-events.js';
import type { WorkerHandle } from '../primary/pool/worker-handle.js';
import type { AnyMessageMap } from '../types.js';
import type { SlotNote, SlotNoteReason, SlotSource } from './log-protocol.js';

type Events = PrimaryEvents<AnyMessageMap>;

/** Replaced or stopped workers remembered (for `--worker <id> --follow` of a worker long gone). */
const kKeptFates = 1_024;

export class SlotTracker implements SlotSource {
  readonly maxSlots: number;
  /** The worker of each active slot (it may have exited: its restart is pending). */
  readonly #serving = new Map<number, number>();
  /** Every slot that ever had a worker (at most `maxSlots` numbers). */
  readonly #ran = new Set<number>();
  /** What became of workers that no longer serve their slot, oldest first. */
  readonly #fates = new Map<number, SlotNote>();
  readonly #listeners = new Set<(note: SlotNote) => void>();
  /** Set between `reload` and its `reloadComplete` / `reloadFailed`: a replacement is the reload's. */
  #isReloading = false;
  /** Set between a `scale` and its `scaleComplete`: a slot started meanwhile is the scale-up's, a worker stopped the scale-down's. */
  #scaling: 'up' | 'down' | undefined;
  /** Slots given up in a crash loop and not started again: a worker that starts one restores it. */
  readonly #givenUp = new Set<number>();
  /** Workers replaced for their memory: their replacement's reason. */
  readonly #overMemory = new WeakSet<WorkerHandle>();
  readonly #stop: () => void;

  constructor(primary: ClusterPrimary) {
    this.maxSlots = primary.options.maxWorkers;
    const listeners = {
      slotChange: ({ slot, worker, previous, reason }) => {
        // A slot given up in a crash loop starts again by a reload (or a watch change), not as new (explorer t60: "(started)").
        const isRestored = reason === 'start' && this.#givenUp.delete(slot);
        const why: SlotNoteReason =
          isRestored ? 'restored'
          : reason === 'start' ? (this.#scaling === 'up' ? 'scale-up' : 'start')
          : reason === 'restart' ? 'restart'
          : previous && this.#overMemory.has(previous) ? 'memory-limit'
          : this.#isReloading ? 'reload' : 'replace';
        this.#serving.set(slot, worker.id);
        this.#ran.add(slot);
        this.#tell({ slot, workerId: worker.id, ...(previous ? { previousWorkerId: previous.id } : {}), reason: why });
      },
      workerExit: ({ worker, expected }) => {
        // A worker stopped on purpose while it still served its slot: the slot is gone (a
        // scale-down, a stop). A crash waits for its restart or its crash loop; a shutdown ends
        // every reader anyway.
        if (!expected || primary.state !== 'running' || this.#serving.get(worker.slot) !== worker.id) return;
        this.#remove(worker.slot, this.#scaling === 'down' ? 'scale-down' : 'stopped');
      },
      crashLoop: ({ slot }) => {
        this.#givenUp.add(slot);
        this.#remove(slot, 'crash-loop');
      },
      workerMemoryLimit: ({ worker }) => this.#overMemory.add(worker),
      reload: () => (this.#isReloading = true),
      reloadComplete: () => (this.#isReloading = false),
      reloadFailed: () => (this.#isReloading = false),
      scale: ({ from, to }) => (this.#scaling = to < from ? 'down' : to > from ? 'up' : undefined),
      scaleComplete: () => {
        this.#scaling = undefined;
        // A scale-down drops given-up slots first: a later scale-up's worker in that slot is new.
        const still = new Set(primary.givenUpSlots().map((given) => given.slot));
        for (const slot of this.#givenUp) if (!still.has(slot)) this.#givenUp.delete(slot);
      },
    } satisfies { [E in keyof Events]?: (payload: Parameters<Events[E]>[0]) => void };
    const entries = Object.entries(listeners) as Array<[keyof Events, (payload: never) => void]>;
    const emitter = primary as unknown as { on(event: string, listener: (payload: never) => void): void; off(event: string, listener: (payload: never) => void): void };
    for (const [event, listener] of entries) emitter.on(event, listener);
    this.#stop = () => entries.forEach(([event, listener]) => emitter.off(event, listener));
  }

  activeSlots(): number[] {
    return [...this.#serving.keys()].sort((a, b) => a - b);
  }

  hasRun(slot: number): boolean {
    return this.#ran.has(slot);
  }

  workerOf(slot: number): number | undefined {
    return this.#serving.get(slot);
  }

  fateOf(workerId: number): SlotNote | undefined {
    return this.#fates.get(workerId);
  }

  subscribe(listener: (note: SlotNote) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops listening to the primary. */
  stop(): void {
    this.#stop();
    this.#listeners.clear();
  }

  #remove(slot: number, reason: SlotNoteReason): void {
    const previous = this.#serving.get(slot);
    if (previous === undefined) return;
    this.#serving.delete(slot);
    this.#tell({ slot, previousWorkerId: previous, reason });
  }

  #tell(note: SlotNote): void {
    if (note.previousWorkerId !== undefined) {
      this.#fates.delete(note.previousWorkerId);
      this.#fates.set(note.previousWorkerId, note);
      if (this.#fates.size > kKeptFates) this.#fates.delete(this.#fates.keys().next().value!);
    }
    for (const listener of this.#listeners) {
      try {
        listener(note);
      } catch {
        // A reader that fails is dropped; the others are told.
        this.#listeners.delete(listener);
      }
    }
  }
}
