/**
 * The control socket a running primary serves, so `clusterkit status|reload|stop|scale NAME`
 * can reach it from another terminal. A Unix socket in the user's 0700 control directory,
 * itself 0600: only this user can connect. Never a network port. How each connection is
 * served, and bounded, is control-connection.ts; how many there may be is `ControlLimits`.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { makeRoom } from '../connection-cap.js';
import { ClusterNameInUseError, ControlSocketError } from '../errors.js';
import type { ClusterDescription, ClusterStatus, ControlResponse, EventsPage } from './control-protocol.js';
import { kindOf } from '../file-kind.js';
import { requestOnce } from './control-client.js';
import { kRoomMadeWords } from './busy-retry.js';
import { type ServedConnection, serveConnection } from './control-connection.js';
import type { LogSource, SlotSource } from './log-protocol.js';
import { claimNameLock, isHolderAlive, readHolderQuietly, type LockHolder, type NameLock } from './name-lock.js';
import { fileNameOf } from './cluster-name.js';
import { controlDirectory, ensureControlDirectory, isForeignFile, socketNames, socketPathFor } from './runtime-dir.js';
import { probeSocket } from './socket-probe.js';
import { clearStopRecord, writeStopRecord } from './stop-record.js';

/**
 * A lock whose holder's pid is alive, but whose socket does not answer, is taken for stale once
 * it is this old: its pid was reused by another process after a SIGKILL. A primary listens
 * within milliseconds of claiming the name. On Linux a reused pid is told sooner, by its start
 * time (isHolderAlive, H303); this is for where `/proc` cannot say.
 */
const kLockGraceMs = 30_000;

/**
 * How long a start refused by a young lock waits for its holder's socket to answer before it
 * says that none does (ms): a primary listens within milliseconds of claiming the name, so only
 * a lock no primary made (planted, copied) waits it out.
 */
const kAnswerWaitMs = 2_000;

/** Whether a primary answers on `socketPath` within `ms` (probed every 50 ms). */
async function answersWithin(socketPath: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await probeSocket(socketPath)) === 'live') return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What one primary's control socket allows at once. */
export interface ControlLimits {
  /**
   * Open connections; one more takes the place of the oldest idle one (no request being
   * answered, no `logs --follow`), or, when every one is busy, gets an error answer and is closed. @default 64
   */
  readonly maxConnections: number;
  /** A connection with no request being answered and no traffic for this long is closed (ms). @default 30000 */
  readonly idleTimeoutMs: number;
  /**
   * A request line must end (its newline) within this long of its first byte, or the client
   * gets an error line and the connection is closed: traffic resets the idle timeout, so 64
   * clients trickling a byte every few seconds would otherwise hold every slot (ms). @default 30000
   */
  readonly lineTimeoutMs?: number;
}

export const kDefaultControlLimits: ControlLimits = Object.freeze({ maxConnections: 64, idleTimeoutMs: 30_000, lineTimeoutMs: 30_000 });

/** What the primary does for each command. Every method may throw or reject: the client gets the error. */
export interface ControlHandlers {
  status(): ClusterStatus;
  /** The status and the settings in force, for `clusterkit show`; without it, `describe` is refused as an older primary refuses it. */
  describe?(): ClusterDescription;
  /** `updateEnv`: load the app's settings files again, and start the new workers with their env (H336). */
  reload(options: { readonly updateEnv: boolean }): Promise<unknown>;
  scale(count: number): Promise<unknown>;
  /** Stops the cluster; resolves once it is down, with the reply for the client. */
  stop(): Promise<unknown>;
  /** Runs once the reply to `stop` has been written (the primary then typically exits). */
  afterStop(): void;
  /** The cluster's output for `logs`; without it, `logs` answers that there is none. */
  logs?: LogSource | undefined;
  /** Which worker serves each slot, for `logs --slot` and the notes of `logs --worker`. */
  slots?: SlotSource | undefined;
  /** The lifecycle events after the cursor `after` (see `EventLog.read`). */
  events(after: number): EventsPage;
  /**
   * `clusterkit run`'s: an error's message with the library's option names as its flags
   * (`"minReadyMs"` -> `--min-ready`), as its log says them; the answer says `optionNames: 'flags'`.
   * Without it, a primary of the user's own code answers in the names it was given (`'api'`, H359).
   */
  inFlagNames?: ((message: string) => string) | undefined;
}

export interface ControlServer {
  /** Absolute path of the socket. */
  readonly path: string;
  /** Stops listening and removes the socket file. Idempotent. */
  close(): void;
  /**
   * The primary's shutdown, asked for, has ended: `close()` leaves a record of the clean stop
   * (stop-record.ts), so a `clusterkit stop` a moment later says it was already stopped.
   * `forced`: the signal that forced it instead (the record says so to a `stop` left unanswered).
   */
  markStopped(forced?: string): void;
}

/**
 * Listens on the control socket of `name`. A stale socket (its primary died) is removed first.
 * `limits` bound what clients can make the primary hold (tests pass small ones).
 * @throws ClusterNameInUseError when a live primary already serves `name`.
 * @throws ControlSocketError when the directory is unsafe or the socket cannot be created.
 */
export async function startControlServer(name: string, handlers: ControlHandlers, directory = controlDirectory(), limits = kDefaultControlLimits): Promise<ControlServer> {
  ensureControlDirectory(directory);
  const path = socketPathFor(name, directory);
  // Before the lock: on macOS a case twin's lock file is ours too, and would be told as this very name.
  await refuseCaseTwin(name, directory);
  const lock = await claimName(name, path);
  let server: net.Server;
  let socketId: string;
  try {
    await claimPath(name, path);
    ({ server, socketId } = await listen(name, path, limits, handlers));
  } catch (error) {
    lock.release();
    throw error;
  }
  // The name is ours: a record of the last primary's clean stop no longer is the last word (H453).
  clearStopRecord(path);
  let isClosed = false;
  let isStopped = false;
  /** The signal that forced the stop, when one did. */
  let forced: string | undefined;
  const close = (): void => {
    if (isClosed) return;
    isClosed = true;
    process.off('exit', close);
    // Written while the name is still ours: a stop that finds no socket finds the record.
    if (isStopped) writeStopRecord(path, forced);
    // The order keeps every step safe from a starter of the same name: while the lock is ours
    // the socket answers, so none deletes it; once the lock is released, a starter that claims
    // it finds the socket answering and stops, until we remove it (only if it still is ours:
    // a loser's exit removed the winner's socket, H112) and close.
    lock.release();
    if (fileId(path) === socketId) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
    server.close();
  };
  // process.exit() (after a signal-driven shutdown) skips every callback but 'exit' listeners.
  process.on('exit', close);
  return {
    path,
    close,
    markStopped: (signal) => {
      isStopped = true;
      forced = signal;
    },
  };
}

/** Listens on `path`; the server, and the socket file's identity (see `fileId`). */
async function listen(name: string, path: string, limits: ControlLimits, handlers: ControlHandlers): Promise<{ server: net.Server; socketId: string }> {
  /** Open connections, oldest first. */
  const connections = new Map<net.Socket, ServedConnection>();
  // Said to an idle connection closed to make room, so its client asks again (busy-retry.ts):
  // a bare close means the primary is exiting or dropped it, and is not asked again (H440).
  const roomLine = `${JSON.stringify(roomMadeAnswer(limits.maxConnections))}\n`;
  // Half-open: a client may write its last request and shut its side down (`printf ... | nc -U`);
  // the connection ends once that request is answered (control-connection.ts).
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    // When full, the oldest idle connection makes room: 64 idle ones refused every `stop` (H113).
    if (!makeRoom(connections, limits.maxConnections, (_idle, served) => served.closeForRoom(roomLine))) return refuse(socket, limits.maxConnections, limits.idleTimeoutMs);
    connections.set(socket, serveConnection(socket, handlers, limits.idleTimeoutMs, limits.lineTimeoutMs ?? kDefaultControlLimits.lineTimeoutMs));
    socket.once('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      // A primary of an older clusterkit (which takes no lock) won the race between our probe and our listen.
      reject(error.code === 'EADDRINUSE' ? new ClusterNameInUseError(name, path) : new ControlSocketError(`Cannot listen on the control socket ${path}: ${error.message}`, { cause: error }));
    });
    server.listen(path, () => resolve());
  });
  // The directory is already 0700; the socket is 0600 too, in case the directory is ever loosened.
  chmodSync(path, 0o600);
  // The control socket alone never keeps the primary alive; its workers do.
  server.unref();
  return { server, socketId: fileId(path) ?? '' };
}

/** What the file at `path` is, for a message. */
function fileTypeAt(path: string): string {
  try {
    return kindOf(lstatSync(path));
  } catch {
    return 'a file that is gone';
  }
}

/** `dev:ino` of the file at `path`, undefined when there is none. */
function fileId(path: string): string | undefined {
  try {
    const { dev, ino } = lstatSync(path);
    return `${dev}:${ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Claims `<name>.lock` next to the socket (name-lock.ts): of several primaries starting with one
 * name, exactly one gets past this; the others fail with the winner's pid.
 */
async function claimName(name: string, socketPath: string): Promise<NameLock> {
  const lockPath = socketPath.replace(/\.sock$/, '.lock');
  // As for the socket (claimPath): a lock of another user in our private directory was planted.
  if (isForeignFile(lockPath)) unlinkSync(lockPath);
  let isAnswering = false;
  const isHeld = async (holder: LockHolder): Promise<boolean> => {
    if (!isHolderAlive(holder, lockPath)) return false;
    isAnswering = (await probeSocket(socketPath)) === 'live';
    return isAnswering || Date.now() - holder.mtimeMs < kLockGraceMs;
  };
  try {
    return await claimNameLock(name, lockPath, socketPath, isHeld);
  } catch (error) {
    if (!(error instanceof ClusterNameInUseError) || isAnswering || (await answersWithin(socketPath, kAnswerWaitMs))) throw error;
    // Held by a young lock alone: "stop it first" would send the user to a stop that finds
    // nothing (hostile t32 LOW-3, H312). Say what holds the name and how to free it.
    const ageMs = Date.now() - (readHolderQuietly(lockPath)?.mtimeMs ?? Date.now());
    throw new ClusterNameInUseError(name, socketPath, error.pid, { unanswered: { lockPath, ageMs, graceMs: kLockGraceMs }, cause: error });
  }
}

/**
 * What an idle connection closed to make room for a newer one is told (id 0, which every client
 * reads as meant for it): its request was not run, and may be asked again. A client recognizes it
 * by `kRoomMadeWords` (busy-retry.ts `isRoomMade`).
 */
function roomMadeAnswer(maxConnections: number): ControlResponse {
  const message = `The cluster's control socket ${kRoomMadeWords} for a newer one (it serves at most ${maxConnections} at once); the request was not run, ask again.`;
  return { id: 0, ok: false, error: { name: 'ControlSocketError', code: 'ERR_CONTROL_SOCKET', message } };
}

/** Every connection busy answering (none idle to make room): one error answer (id 0, which every client reads as meant for it), then close. */
function refuse(socket: net.Socket, maxConnections: number, idleTimeoutMs: number): void {
  socket.on('error', () => {});
  const message = `The cluster's control socket already has ${maxConnections} connections open (the most it serves at once); try again once some have closed.`;
  const response: ControlResponse = { id: 0, ok: false, error: { name: 'ControlSocketError', code: 'ERR_CONTROL_SOCKET', message } };
  socket.end(`${JSON.stringify(response)}\n`);
  // Sockets are half-open (see above): read and drop what the client sends, so its request
  // write succeeds and it reads the answer, and close the socket once the client ends it or
  // after the idle timeout. (Destroying at once made the client's write fail first: EPIPE.)
  socket.resume();
  socket.once('end', () => socket.destroy());
  socket.setTimeout(idleTimeoutMs, () => socket.destroy());
}

async function claimPath(name: string, path: string): Promise<void> {
  // Our directory is private now; a socket of another user in it was planted while it was
  // not (its primary is not ours to ask): it goes.
  if (isForeignFile(path)) unlinkSync(path);
  const state = await probeSocket(path);
  if (state === 'live') throw new ClusterNameInUseError(name, path, await primaryPid(path));
  if (state === 'not-a-socket') {
    throw new ControlSocketError(`${path} exists and is ${fileTypeAt(path)}, not a socket; remove it or pick another cluster name.`);
  }
  if (state === 'stale') {
    try {
      unlinkSync(path);
    } catch {
      // removed meanwhile
    }
  }
}

/** The pid of the primary answering on `path`, for a message; undefined when it does not say. */
function primaryPid(path: string): Promise<number | undefined> {
  return requestOnce(path, { id: 1, command: 'status' }, 1_000).then(
    (status) => (status as ClusterStatus).pid,
    () => undefined,
  );
}

/**
 * Refuses `name` when a live cluster's name differs from it only in letter case (`api`, `Api`),
 * on every system (H282): on a case-insensitive file system (macOS's default APFS) both map to
 * one socket and one lock file. Letters other than ASCII are written as `%XX` in file names, so
 * only ASCII case can meet; the file names are compared case-folded.
 * @throws ClusterNameInUseError naming the running cluster (`runningName`).
 */
async function refuseCaseTwin(name: string, directory: string): Promise<void> {
  const folded = fileNameOf(name).toLowerCase();
  for (const other of socketNames(directory)) {
    if (other === name || fileNameOf(other).toLowerCase() !== folded) continue;
    const path = socketPathFor(other, directory);
    if ((await probeSocket(path)) === 'live') throw new ClusterNameInUseError(name, path, await primaryPid(path), { runningName: other });
  }
}
