/**
 * Serving `logs` on a control connection: the buffered lines, then (with `follow`) each new
 * line as it comes. What one connection can make the primary hold is bounded:
 *
 * - the backlog is read from the buffer a chunk at a time (`kChunkChars` of text) and written
 *   with back-pressure: the next chunk only once the previous one left the connection's buffer.
 *   The reader keeps a cursor into the log buffer, not a copy of it: lines that leave the buffer
 *   before it reads them are skipped and counted (`dropped`). Written whole, 60 connections
 *   that asked for 1 000 000 lines and never read took the primary from 57 MB to 841 MB (a line
 *   of control characters is six times longer as JSON);
 * - a follower is never waited for: new lines are written at once, and once more than
 *   `kMaxQueuedBytes` wait unread in this connection's buffer, further lines are dropped for
 *   this reader alone and counted; the count is sent as soon as the reader catches up;
 * - at most `kMaxFollowers` followers per cluster, and one per connection (control-connection.ts).
 *
 * So a connection holds at most about one chunk (backlog) or `kMaxQueuedBytes` plus one line
 * (follow) of the primary's memory.
 */
import type net from 'node:net';
import { InvalidArgumentError, InvalidStateError } from '../errors.js';
import { checkLogsRequest, describeSlots, matchesFilter, type LogEntry, type LogFilter, type LogSource, type LogsRequest, type SlotNote, type SlotSource } from './log-protocol.js';
import { drainedOrClosed } from './drained-or-closed.js';

/** Unread output a reader may hold in the primary's memory before its lines are dropped. */
export const kMaxQueuedBytes = 1024 * 1024;
/** `--follow` readers at once, per cluster: each costs the primary memory and a write per line. */
export const kMaxFollowers = 32;
/** Text of the backlog written at once (one 16 KiB line at least): at most ~100 KB of JSON. */
const kChunkChars = 16 * 1024;
const kDefaultLines = 15;

const followers = new WeakMap<LogSource, number>();

/**
 * Answers the `logs` request `request` (already parsed, with its `id`) on `socket`; resolves
 * once the backlog and the `ok` answer are written (a follower is then served by listeners).
 * `slots` tells which worker serves each slot (for `slot`, and the notes of `workerId`).
 * @throws InvalidArgumentError for a malformed request or a slot the cluster does not have,
 * InvalidStateError when there is no log buffer or when too many readers follow already; the
 * caller turns them into an error answer.
 */
export async function streamLogs(socket: net.Socket, request: LogsRequest & { id: number }, source: LogSource | undefined, slots?: SlotSource): Promise<void> {
  checkLogsRequest(request as unknown as Record<string, unknown>);
  if (!source) {
    // Named for both library primaries (newcomer t49: a ClusterPrimary subclass read of startClusteredService only).
    throw new InvalidStateError(
      'This cluster keeps no log buffer: only clusters started with "clusterkit run" do. A primary of your own (a ClusterPrimary, or startClusteredService) ' +
        "writes its workers' output to its own stdout and stderr: read them where its supervisor keeps them (journalctl, docker logs, kubectl logs), or start the script with clusterkit run.",
    );
  }
  const { id } = request;
  const follow = request.follow ?? false;
  const { workerId, slot, output } = request;
  if (slot !== undefined) checkSlot(slot, follow, slots);
  const filter: LogFilter | undefined =
    workerId === undefined && slot === undefined && output === undefined ? undefined : { ...(workerId !== undefined ? { workerId } : slot !== undefined ? { slot } : {}), output };
  // Without --follow, a worker that has not run yet has no line to print: say so rather than
  // print nothing (with --follow, its lines are waited for: a restart may fork it).
  if (!follow && workerId !== undefined && source.lastWorkerId !== undefined && workerId > source.lastWorkerId) {
    const known = source.lastWorkerId === 0 ? 'no worker has run yet' : `worker ids so far go from 1 to ${source.lastWorkerId}`;
    throw new InvalidArgumentError(`No worker ${workerId} has run in this cluster: ${known}. "clusterkit status <name>" lists the current workers.`);
  }
  if (follow && (followers.get(source) ?? 0) >= kMaxFollowers) {
    throw new InvalidStateError(`${kMaxFollowers} readers already follow this cluster's logs; close one (or read without --follow).`);
  }
  // The slot is taken now: followers that ask together cannot all pass the check above.
  if (follow) followers.set(source, (followers.get(source) ?? 0) + 1);
  let isCounted = follow;
  const release = () => {
    if (!isCounted) return;
    isCounted = false;
    followers.set(source, (followers.get(source) ?? 1) - 1);
  };
  try {
    let dropped = 0;
    const until = source.end;
    let cursor = source.startOf(request.lines ?? kDefaultLines, filter);
    let sent = 0;
    while (cursor < until && !socket.destroyed) {
      const read = source.read(cursor, until, filter, kChunkChars);
      cursor = read.next;
      dropped += read.skipped;
      sent += read.entries.length;
      if (read.entries.length > 0 && !socket.write(read.entries.map((entry) => line(id, entry)).join(''))) await drainedOrClosed(socket);
    }
    if (socket.destroyed) return release();
    if (dropped > 0) socket.write(`${JSON.stringify({ id, dropped })}\n`);
    // Which worker serves the slot now (null: none yet, a scale-up may start one).
    const serving = slot === undefined ? {} : { serving: slots?.workerOf(slot) ?? null };
    // Fewer than asked, and the buffer has let older lines go: those of the request may be among them (retest t68 #6, with a filter).
    const evicted = source.evictedOf?.(filter) ?? source.evicted ?? 0;
    // With the lines held now (`kept`): long lines may have left fewer than the line bound (retest t69b).
    const olderGone = sent < (request.lines ?? kDefaultLines) && evicted > 0 ? { olderGone: true, ...(source.size === undefined ? {} : { kept: source.size }) } : {};
    socket.write(`${JSON.stringify({ id, ok: true, result: { lines: sent, follow, ...serving, ...olderGone } })}\n`);
    if (!follow) return;
    // Lines added while the backlog was written, then (in the same turn: none can come in
    // between) the listener for the next ones.
    dropped = 0;
    while (cursor < source.end && !socket.destroyed) {
      if (socket.writableNeedDrain) await drainedOrClosed(socket);
      const read = source.read(cursor, source.end, filter, kChunkChars);
      cursor = read.next;
      dropped += read.skipped;
      if (read.entries.length > 0) socket.write(read.entries.map((entry) => line(id, entry)).join(''));
    }
    if (socket.destroyed) return release();
    followNewLines(socket, id, filter, source, dropped, release);
    if (slots && filter && (filter.workerId !== undefined || filter.slot !== undefined)) followSlotNotes(socket, id, filter, slots);
  } catch (error) {
    release();
    throw error;
  }
}

/** Writes each new entry to a follower until its connection closes. */
function followNewLines(socket: net.Socket, id: number, filter: LogFilter | undefined, source: LogSource, alreadyDropped: number, release: () => void): void {
  let dropped = alreadyDropped;
  const reportDropped = () => {
    if (dropped === 0 || socket.destroyed) return;
    socket.write(`${JSON.stringify({ id, dropped })}\n`);
    dropped = 0;
  };
  reportDropped();
  const unsubscribe = source.subscribe((entry) => {
    if (!matchesFilter(entry, filter)) return;
    if (socket.destroyed) return;
    if (socket.writableLength > kMaxQueuedBytes) {
      dropped++;
      return;
    }
    reportDropped();
    socket.write(line(id, entry));
  });
  socket.on('drain', reportDropped);
  socket.once('close', () => {
    unsubscribe();
    release();
  });
}

/**
 * Tells a slot's follower each change of the worker serving it; tells a worker's follower,
 * once, that its worker no longer serves its slot (replaced, or the slot is gone): a worker id
 * never comes back, so its reader would otherwise wait in silence forever.
 */
function followSlotNotes(socket: net.Socket, id: number, filter: LogFilter, slots: SlotSource): void {
  const write = (note: SlotNote) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify({ id, slotChange: note })}\n`);
  };
  let unsubscribe: () => void;
  if (filter.slot !== undefined) {
    unsubscribe = slots.subscribe((note) => note.slot === filter.slot && write(note));
  } else {
    let isTold = false;
    const tell = (note: SlotNote | undefined) => {
      if (isTold || note === undefined || note.previousWorkerId !== filter.workerId) return;
      isTold = true;
      write(note);
      unsubscribe();
    };
    unsubscribe = slots.subscribe(tell);
    // Replaced before this reader came: said at once (same turn as the subscription: nothing in between).
    tell(slots.fateOf(filter.workerId!));
  }
  socket.once('close', () => unsubscribe());
}

/**
 * @throws InvalidArgumentError for a slot this cluster cannot show: one it has never had
 * (without `follow`), or one past what `maxWorkers` lets it have (with `follow`, a slot a
 * scale-up may start is waited for, as `--worker` waits for a worker id not forked yet).
 */
function checkSlot(slot: number, follow: boolean, slots: SlotSource | undefined): void {
  if (!slots) throw new InvalidStateError('This cluster does not report its worker slots, so "logs" cannot filter by slot; filter by worker id instead.');
  const active = slots.activeSlots();
  if (active.includes(slot)) return;
  if (follow && slot < slots.maxSlots) return;
  if (!follow && slots.hasRun(slot)) return;
  // Slots that had workers before (a scale-down, a crash loop) keep their lines and are accepted: say so.
  const past = Array.from({ length: Math.min(slots.maxSlots, 1024) }, (_, index) => index).filter((index) => !active.includes(index) && slots.hasRun(index));
  const before = past.length === 0 ? '' : `; ${past.length === 1 ? `slot ${past[0]} had workers before and keeps` : `slots ${past.slice(0, -1).join(', ')} and ${past.at(-1)} had workers before and keep`} their lines`;
  const now = describeSlots(active) + before;
  if (follow) {
    throw new InvalidArgumentError(`No worker slot ${slot} can exist in this cluster: ${now}, and at most ${slots.maxSlots} workers (maxWorkers) make slots 0 to ${slots.maxSlots - 1}.`);
  }
  throw new InvalidArgumentError(`No worker slot ${slot} in this cluster: ${now}. With --follow, a slot up to ${slots.maxSlots - 1} is waited for (a scale-up may start it).`);
}

function line(id: number, entry: LogEntry): string {
  return `${JSON.stringify({ id, log: entry })}\n`;
}
