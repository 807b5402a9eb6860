/**
 * Under `clusterkit run` the bootstrap owns the worker's IPC channel: the script's
 * `process.send()` may carry its own messages ('ready' for --wait-ready, prom-client's...), but
 * not clusterkit's frames. A script that sent `{ __ck: 1, m: [3, 0, '$ready', ...] }` at its top
 * was counted ready before it listened, and the genuine `$ready` was then dropped as the forged
 * one (H233); a forged `$crash`, `$stopped`... rewrote what the primary reported.
 *
 * The guard sits on `process._send`, which `process.send` and Node's handle queue both go
 * through, so a script cannot step around it with `_send` either. clusterkit's own frames are
 * written by its port (process-port.ts), which marks them. A refused message is not written: its
 * callback gets `ReservedMessageError` (as Node gives a closed channel's error), and one WARN
 * line per process goes to stderr, the first time. Where Node has no `_send` (not Node 20-24),
 * `process.send` is guarded instead.
 *
 * Node's own internal messages (`cmd: 'NODE_CLUSTER'`...) are refused the same way when the
 * script sends them (H383): Node's primary acts on them as the worker's own, and a script's
 * `{ cmd: 'NODE_CLUSTER', act: 'listening', ... }` made a worker that never listened ready under
 * --wait-listen. Node's own code sends them through the same `process.send`: told apart by the
 * caller (node:cluster's `sendHelper`, or child_process's acknowledgement of a handle). That is a
 * first line; the primary checks a `listening` against the addresses the worker asked for
 * (channel-guard.ts), whoever sent it.
 */
import { canSetStackSettings, framesFromStackText } from '../stack-settings.js';
import { ReservedMessageError } from '../errors.js';
import { writeOwnLine } from '../line-start.js';
import { isClusterKitMessage } from '../messaging/envelope.js';
import { isOwnFrame, markOwnFrames } from '../worker/process-port.js';
import { kSerializationEnv } from '../worker-env.js';

type Send = (this: NodeJS.Process, message: unknown, ...rest: unknown[]) => boolean;

export function guardScriptFrames(): void {
  if (typeof process.send !== 'function') return;
  markOwnFrames();
  const target = process as unknown as Record<string, unknown>;
  const key = typeof target._send === 'function' ? '_send' : 'send';
  const send = target[key] as Send;
  const warned = new Set<'frame' | 'node'>();
  const isAdvanced = process.env[kSerializationEnv] === 'advanced';
  // Node's own messages (`cmd: 'NODE_...'`) go through the same send as the script's: node:cluster's
  // through `process.send` (sendHelper, lib/internal/cluster/utils.js), a handle's acknowledgement
  // straight to `_send` from lib/internal/child_process.js. Which one sent is read from the stack
  // (`callerFiles`); `process.send` is wrapped to count the calls that came through it.
  let sendDepth = 0;
  if (key === '_send') {
    const original = process.send as unknown as Send;
    const publicSend = function send(this: NodeJS.Process, ...args: unknown[]): boolean {
      sendDepth++;
      try {
        return Reflect.apply(original, this, args) as boolean;
      } finally {
        sendDepth--;
      }
    };
    process.send = publicSend as unknown as typeof process.send;
  }
  // Through `process.send`: node:cluster's sendHelper is on the stack, however many wrappers of
  // `process.send` lie between (--wait-ready's, an APM's); a script's send from a timer or a
  // bound function has no frame of it. The function, not only its file: a connection listener
  // runs below node:cluster's dispatch of the connection, whose `internal()` wrapper is in the
  // same file (a script's forged answer from there passed, H395). Straight to `_send`: Node's child_process called it (a
  // script's own call has its own frame, or a timer's, there).
  const isNodesOwn = (guarded: Send): boolean =>
    sendDepth > 0 || key === 'send'
      ? callerFiles(guarded, kMaxFramesToNode).includes(kSendHelper)
      : callerFiles(guarded, 1)[0] === 'node:internal/child_process';
  const owed = owedConnectionAnswers();
  target[key] = function guardedSend(this: NodeJS.Process, message: unknown, ...rest: unknown[]): boolean {
    if (typeof message === 'object' && message !== null && isOwnFrame(message)) return Reflect.apply(send, this, [message, ...rest]) as boolean;
    // What is checked is what goes out: a copy made the way the channel serializes (toJSON in
    // json mode; each getter read once), so a `toJSON()` that returns a frame, or a `__ck` getter
    // that is empty at the first read, cannot slip one past (retester t25). A script's sends are
    // few ('ready', its own messages): the copy's cost is theirs alone, never clusterkit's frames.
    // A message that cannot be serialized throws here, as Node's send would.
    const copy = snapshot(message, isAdvanced);
    const frame = clusterKitFrame(copy);
    const nodeCommand = frame === undefined ? nodeInternalCommand(copy) : undefined;
    if (frame === undefined && (nodeCommand === undefined || owed.take(copy) || isNodesOwn(guardedSend))) return Reflect.apply(send, this, [copy, ...rest]) as boolean;
    // A script's node:cluster `listening` was counted as its listen, and its readiness (H383).
    const error = frame === undefined ? new ReservedMessageError(nodeAct(copy), nodeCommand) : new ReservedMessageError(firstType(frame));
    const kind = frame === undefined ? 'node' : 'frame';
    if (!warned.has(kind)) {
      warned.add(kind);
      writeOwnLine(process.stderr, `clusterkit: WARN ${error.message}\n`);
    }
    const callback = rest.findLast((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined;
    if (callback !== undefined) process.nextTick(callback, error);
    return false;
  };
}

/**
 * Node's two answers to each connection node:cluster's round-robin hands a worker, told apart
 * without reading the stack (about 20 µs each, two per connection: a tenth of a short
 * connection's CPU in the worker). Both are written inside Node's own `internalMessage`
 * dispatch of what the primary sent, before any user code runs for it: child_process's
 * `NODE_HANDLE_ACK` (or `NACK`) of the handle's envelope, then node:cluster's `{ ack: seq,
 * accepted }` for its `newconn` (lib/internal/child_process.js, lib/internal/cluster/child.js
 * `onconnection`, which calls the server's connection listener after its answer). A listener put
 * before Node's notes the one answer each dispatch owes; one after Node's forgets what was not
 * taken. A script's send matches only an answer still owed, which Node's own took first; anything
 * else is read from the stack.
 */
function owedConnectionAnswers(): { take(message: unknown): boolean } {
  let handleAck = false;
  let connectionAck: number | undefined;
  const channel = process as unknown as NodeJS.EventEmitter;
  channel.prependListener('internalMessage', (message: unknown, handle: unknown) => {
    const { cmd, act, seq } = (typeof message === 'object' && message !== null ? message : {}) as { cmd?: unknown; act?: unknown; seq?: unknown };
    handleAck = cmd === 'NODE_HANDLE';
    connectionAck = cmd === 'NODE_CLUSTER' && act === 'newconn' && typeof seq === 'number' && handle !== undefined ? seq : undefined;
  });
  channel.on('internalMessage', () => {
    handleAck = false;
    connectionAck = undefined;
  });
  return {
    take(message) {
      const { cmd, act, ack } = message as { cmd?: unknown; act?: unknown; ack?: unknown };
      if (handleAck && (cmd === 'NODE_HANDLE_ACK' || cmd === 'NODE_HANDLE_NACK')) {
        handleAck = false;
        return true;
      }
      if (connectionAck !== undefined && cmd === 'NODE_CLUSTER' && act === undefined && ack === connectionAck) {
        connectionAck = undefined;
        return true;
      }
      return false;
    },
  };
}

/**
 * The `cmd` of a message Node takes as its own internal protocol (a string `cmd` longer than
 * `NODE_` that starts with it, as lib/internal/child_process.js tells them), or undefined.
 */
function nodeInternalCommand(message: unknown): string | undefined {
  try {
    const cmd = typeof message === 'object' && message !== null ? (message as { cmd?: unknown }).cmd : undefined;
    return typeof cmd === 'string' && cmd.length > 5 && cmd.startsWith('NODE_') ? cmd : undefined;
  } catch {
    return undefined;
  }
}

function nodeAct(message: unknown): string | undefined {
  try {
    const act = (message as { act?: unknown }).act;
    return typeof act === 'string' ? act : undefined;
  } catch {
    return undefined;
  }
}

/** node:cluster's `sendHelper` (lib/internal/cluster/utils.js, so named since Node 0.x), as `callerFiles` names it. */
const kSendHelper = 'node:internal/cluster/utils#sendHelper';

/** Frames searched for node:cluster's sendHelper: Node's send and a few wrappers of `process.send` lie above it. */
const kMaxFramesToNode = 64;

/**
 * The files of the `frames` innermost functions that called `callee` (its innermost call), as
 * V8 names them: Node's own modules are `node:internal/...`, which a script's code is not; in
 * node:cluster's utils, with the function (`file#name`). The
 * script's own `Error.prepareStackTrace` and `Error.stackTraceLimit` are set aside for the read.
 */
function callerFiles(callee: Send, frames: number): Array<string | undefined> {
  // Frozen (node --frozen-intrinsics, H662): setting them would throw; the stack's text is read.
  if (!canSetStackSettings()) {
    const { frames: read, isCut } = framesFromStackText(callee);
    const files = read.slice(0, frames).map(({ file, name }) => (file === 'node:internal/cluster/utils' ? `${file}#${name ?? ''}` : file));
    // Cut short by the frozen limit (10) before Node's helper could show: taken as Node's own, the
    // guard's default where it cannot tell (a refused Node message would stop the worker's listen).
    return isCut && files.length < frames && !files.includes(kSendHelper) ? [...files, kSendHelper] : files;
  }
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.stackTraceLimit = frames;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callee);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    return (sites ?? []).map((site) => {
      const file = site.getFileName() ?? undefined;
      return file === 'node:internal/cluster/utils' ? `${file}#${site.getFunctionName() ?? ''}` : file;
    });
  } catch {
    return [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/**
 * The clusterkit frame a message is or carries: itself, or the `msg` of Node's handle envelope
 * (`{ cmd: 'NODE_HANDLE', msg }`: Node hands the primary `msg` as a message of its own). A
 * message whose fields cannot be read is left to Node, which reads them the same way.
 */
function clusterKitFrame(message: unknown): object | undefined {
  try {
    if (isClusterKitMessage(message)) return message;
    const inner = typeof message === 'object' && message !== null && (message as { cmd?: unknown }).cmd === 'NODE_HANDLE' ? (message as { msg?: unknown }).msg : undefined;
    return isClusterKitMessage(inner) ? inner : undefined;
  } catch {
    return undefined;
  }
}

function firstType(frame: object): string | undefined {
  try {
    const type = (frame as { m?: unknown }).m instanceof Array ? ((frame as { m: unknown[] }).m[2] as unknown) : undefined;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The message as the channel will carry it: JSON's round trip (json, Node's own
 * `JSON.stringify`), or a structured clone (advanced, v8's serializer). Primitives and
 * `undefined` (Node refuses those itself) pass as they are.
 */
function snapshot(message: unknown, isAdvanced: boolean): unknown {
  if (typeof message !== 'object' || message === null) return message;
  if (isAdvanced) return structuredClone(message);
  const text = JSON.stringify(message) as string | undefined;
  return text === undefined ? message : (JSON.parse(text) as unknown);
}
