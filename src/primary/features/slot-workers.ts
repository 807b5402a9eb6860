/**
 * One worker per slot. During a reload or a memory replacement a slot briefly has two, the old
 * one serving or stopping and the new one starting: the one that serves is kept (ready over
 * starting over stopping; of two ready, the newer, which takes over). The dashboard's charts
 * follow it, and `/metrics` writes its series: one sample per `{slot}` (H278).
 */
import type { WorkerStats } from './worker-stats.js';

export function slotWorkers<Row extends Pick<WorkerStats, 'id' | 'slot' | 'state'>>(workers: readonly Row[]): Row[] {
  const bySlot = new Map<number, Row>();
  for (const worker of workers) {
    const held = bySlot.get(worker.slot);
    if (!held || rank(worker) > rank(held) || (rank(worker) === rank(held) && worker.id > held.id)) bySlot.set(worker.slot, worker);
  }
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

function rank(worker: Pick<WorkerStats, 'state'>): number {
  return worker.state === 'ready' ? 2 : worker.state === 'starting' ? 1 : 0;
}
