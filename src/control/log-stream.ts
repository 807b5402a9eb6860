/**
 * Serving `logs` on a control connection: the buffered lines, then (with `follow`) each new
 * line as it comes. A reader never slows the cluster: lines are written without waiting, and
 * once more than `kMaxQueuedBytes` wait unread in this connection's buffer, further lines are
 * dropped for this reader alone and counted; the count is sent as soon as the reader catches up.
 */
import type net from 'node:net';
import { InvalidStateError } from '../errors.js';
import { checkLogsRequest, type LogEntry, type LogSource, type LogsRequest } from './log-protocol.js';

/** Unread output a reader may hold in the primary's memory before its lines are dropped. */
export const kMaxQueuedBytes = 1024 * 1024;
/** `--follow` readers at once, per cluster: each costs the primary memory and a write per line. */
export const kMaxFollowers = 32;
const kDefaultLines = 15;

const followers = new WeakMap<LogSource, number>();

/**
 * Answers the `logs` request `request` (already parsed, with its `id`) on `socket`.
 * @throws InvalidArgumentError for a malformed request, InvalidStateError when there is no
 * log buffer or when too many readers follow already; the caller turns
 * them into an error answer.
 */
export function streamLogs(socket: net.Socket, request: LogsRequest & { id: number }, source: LogSource | undefined): void {
  checkLogsRequest(request as unknown as Record<string, unknown>);
  if (!source) {
    throw new InvalidStateError('This cluster keeps no log buffer: only clusters started with "clusterkit run" do; a startClusteredService primary writes its workers\' output to its own stdout.');
  }
  const { id } = request;
  const follow = request.follow ?? false;
  const workerId = request.workerId;
  if (follow && (followers.get(source) ?? 0) >= kMaxFollowers) {
    throw new InvalidStateError(`${kMaxFollowers} readers already follow this cluster's logs; close one (or read without --follow).`);
  }
  const backlog = source.recent(request.lines ?? kDefaultLines, workerId);
  // The backlog is bounded by the buffer (a few MB); it is written whole.
  if (backlog.length > 0) socket.write(backlog.map((entry) => line(id, entry)).join(''));
  socket.write(`${JSON.stringify({ id, ok: true, result: { lines: backlog.length, follow } })}\n`);
  if (!follow || socket.destroyed) return;

  followers.set(source, (followers.get(source) ?? 0) + 1);
  let dropped = 0;
  const reportDropped = () => {
    if (dropped === 0 || socket.destroyed) return;
    socket.write(`${JSON.stringify({ id, dropped })}\n`);
    dropped = 0;
  };
  const unsubscribe = source.subscribe((entry) => {
    if (workerId !== undefined && entry.workerId !== workerId) return;
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
    followers.set(source, (followers.get(source) ?? 1) - 1);
  });
}

function line(id: number, entry: LogEntry): string {
  return `${JSON.stringify({ id, log: entry })}\n`;
}
