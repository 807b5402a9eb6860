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
 */
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
  let hasWarned = false;
  const isAdvanced = process.env[kSerializationEnv] === 'advanced';
  target[key] = function guardedSend(this: NodeJS.Process, message: unknown, ...rest: unknown[]): boolean {
    if (typeof message === 'object' && message !== null && isOwnFrame(message)) return Reflect.apply(send, this, [message, ...rest]) as boolean;
    // What is checked is what goes out: a copy made the way the channel serializes (toJSON in
    // json mode; each getter read once), so a `toJSON()` that returns a frame, or a `__ck` getter
    // that is empty at the first read, cannot slip one past (retester t25). A script's sends are
    // few ('ready', its own messages): the copy's cost is theirs alone, never clusterkit's frames.
    // A message that cannot be serialized throws here, as Node's send would.
    const copy = snapshot(message, isAdvanced);
    const frame = clusterKitFrame(copy);
    if (frame === undefined) return Reflect.apply(send, this, [copy, ...rest]) as boolean;
    const error = new ReservedMessageError(firstType(frame));
    if (!hasWarned) {
      hasWarned = true;
      writeOwnLine(process.stderr, `clusterkit: WARN ${error.message}\n`);
    }
    const callback = rest.findLast((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined;
    if (callback !== undefined) process.nextTick(callback, error);
    return false;
  };
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
