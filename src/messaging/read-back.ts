/**
 * Values V8's serializer writes but its deserializer cannot read back (with `serialization:
 * 'advanced'`): sent, they killed the receiver. A worker reading one crashed with "Unable to
 * deserialize cloned data."; the primary killed a worker that sent one, blaming bytes written below
 * process.send(). Three kinds are known:
 *
 * - An Error whose `cause` leads back to it (`e.cause = e`, `e.cause = { error: e }`, two errors
 *   each the other's cause): V8 builds an Error only after reading its cause, so the reference
 *   back finds nothing (hostile t83 #2).
 * - A host object (a Blob, a MessagePort, a KeyObject...) whose own fields lead back to it
 *   (`blob.self = blob`): Node's IPC serializer writes it as a copy of its own fields, and the
 *   reader makes it only after reading them, so again the reference back finds nothing (hostile t84 #1).
 * - A WebAssembly.Module, anywhere: V8 passes compiled modules between threads of one process
 *   only, and a process reading one fails (hostile t84 #1: a broadcast of one crashed every worker).
 *
 * Every other cycle V8 reads back: a plain object, an array, a Map, a Set or a class instance
 * exists before its contents are read.
 *
 * The payload walk notes where it met one of these (the reference back, the module), at no cost
 * for a payload without one: a cycle back to an object other than a plain one or an array, an
 * Error met again inside its own cause, a WebAssembly.Module. The walk goes through a shared object
 * each time it is met, where V8 writes it once and refers to it after, and it cannot tell a host
 * object from a class instance; so a note is confirmed here by reading back what V8 writes (once,
 * for the rare payload noted). A cycle V8 does read back (`[o, e]`, `o.e = e`, `e.cause = o`: `e`
 * written whole inside `o` first; a class instance holding itself) is sent.
 */
import { loadV8 } from '../builtins.js';
import { NotSerializableError } from '../errors.js';
import { pathText, type Walk } from './payload-walk.js';

export const kErrorCycleReason =
  'it is the Error whose cause holds it (an Error\'s cause leads back to the Error): V8\'s serializer writes that cycle but cannot read it back, ' +
  'so the receiver would fail with "Unable to deserialize cloned data."; break the cycle (give the cause a copy of what it needs, such as the error\'s message)';

export const kHostCycleReason =
  'it is the object whose own fields hold it, and a host object (a Blob, a MessagePort, a KeyObject...): Node\'s IPC serializer writes such an object as a copy of its own fields ' +
  'and V8 cannot read back a reference to it from inside them, so the receiver would fail with "Unable to deserialize cloned data."; ' +
  'drop the field that leads back to it, or send plain data in its place';

export const kWasmModuleReason =
  'a WebAssembly.Module: V8\'s serializer writes it, but only a thread of the same process can read it back, so the receiving process would fail with "Unable to deserialize cloned data."; ' +
  'send the module\'s bytes (the .wasm file as a Buffer) and compile them on arrival';

/** Where the walk met a value V8 may not read back: the keys to it, the value, why it would be refused. */
export interface Unreadable {
  readonly keys: ReadonlyArray<string | number>;
  readonly value: unknown;
  readonly reason: string;
}

/** Notes kept per payload: enough to name the culprit among a few (a tree of class instances with parent links notes every child). */
const kMaxNotes = 8;

/** Notes that the walk met, at its current keys, `value`, which V8 may not read back (confirmed after the walk). */
export function noteUnreadable(walk: Walk, value: unknown, reason: string): void {
  const notes = (walk.unreadable ??= []);
  if (notes.length < kMaxNotes) notes.push({ keys: [...walk.keys], value, reason });
}

/**
 * Throws NotSerializableError when the payload the walk noted cannot be read back, naming the
 * first noted value that cannot be read back alone either (a class instance holding itself can;
 * a Blob holding itself cannot), else the first noted.
 */
export function checkReadBack(walk: Walk, payload: unknown): void {
  const notes = walk.unreadable;
  if (notes === undefined) return;
  const failure = readBackFailure(payload);
  if (failure === undefined) return;
  const culprit = notes.find((note) => readBackFailure(note.value) !== undefined) ?? notes[0]!;
  throw new NotSerializableError(pathText(culprit.keys), culprit.reason, { cause: failure });
}

/** The error reading `payload` back throws, as the receiver's channel reads it; undefined when it reads back (or cannot be written, which the send itself reports). */
function readBackFailure(payload: unknown): unknown {
  const { Serializer, Deserializer } = ipcCodec();
  let bytes: Buffer;
  try {
    const serializer = new Serializer();
    serializer.writeHeader();
    serializer.writeValue(payload);
    bytes = serializer.releaseBuffer();
  } catch {
    return undefined;
  }
  try {
    const deserializer = new Deserializer(bytes);
    deserializer.readHeader();
    deserializer.readValue();
    return undefined;
  } catch (error) {
    return error;
  }
}

interface IpcCodec {
  readonly Serializer: new () => import('node:v8').Serializer;
  readonly Deserializer: new (buffer: Buffer) => import('node:v8').Deserializer;
}

let codec: IpcCodec | undefined;

/**
 * The serializer and deserializer of Node's `advanced` IPC (lib/internal/child_process/serialization.js,
 * not exported): a host object other than a typed array or Buffer (a Blob, process.env) is written
 * as a copy of its own fields, where `v8.serialize()` throws; so a payload holding one is checked as it is sent.
 */
function ipcCodec(): IpcCodec {
  if (codec !== undefined) return codec;
  const v8 = loadV8();
  const kArrayBufferView = 0;
  const kNotArrayBufferView = 1;
  type HostSerializer = { _writeHostObject(object: object): void };
  type HostDeserializer = { _readHostObject(): unknown };
  class Serializer extends v8.DefaultSerializer {
    _writeHostObject(object: object): void {
      if (ArrayBuffer.isView(object)) {
        this.writeUint32(kArrayBufferView);
        (v8.DefaultSerializer.prototype as unknown as HostSerializer)._writeHostObject.call(this, object);
        return;
      }
      this.writeUint32(kNotArrayBufferView);
      this.writeValue({ ...object });
    }
  }
  class Deserializer extends v8.DefaultDeserializer {
    _readHostObject(): unknown {
      if (this.readUint32() === kArrayBufferView) return (v8.DefaultDeserializer.prototype as unknown as HostDeserializer)._readHostObject.call(this);
      return this.readValue();
    }
  }
  codec = { Serializer, Deserializer };
  return codec;
}
