/**
 * An Error whose `cause` leads back to it (`e.cause = e`, `e.cause = { error: e }`, two errors
 * each the other's cause), with `serialization: 'advanced'`: V8's serializer writes it, but its
 * deserializer builds an Error only after reading its cause, so the reference back to the Error
 * finds nothing and reading fails ("Unable to deserialize cloned data."). Sent, it killed the
 * receiver: a worker reading it crashed, the primary killed a worker that sent it and blamed
 * bytes written below process.send() (hostile t83 #2). Every other cycle V8 reads back: a plain
 * object, an array, a Map or a Set exists before its contents are read.
 *
 * The payload walk (special-values.ts) notes where it met an Error again inside its own cause,
 * at no cost for a payload without one. The walk goes through a shared object each time it is
 * met, where V8 writes it once and refers to it after, so that note is confirmed here by reading
 * back what V8 writes (once, for the rare payload noted): a cycle V8 does read back (`[o, e]`,
 * `o.e = e`, `e.cause = o`: `e` written whole inside `o` first) is sent.
 */
import { loadV8 } from '../builtins.js';
import { NotSerializableError } from '../errors.js';
import { pathText, type Walk } from './payload-walk.js';

const kReason =
  'it is the Error whose cause holds it (an Error\'s cause leads back to the Error): V8\'s serializer writes that cycle but cannot read it back, ' +
  'so the receiver would fail with "Unable to deserialize cloned data."; break the cycle (give the cause a copy of what it needs, such as the error\'s message)';

/** Throws NotSerializableError, naming the reference back, when the cycle the walk noted cannot be read back. */
export function checkErrorCycle(walk: Walk, payload: unknown): void {
  const keys = walk.errorCycle;
  if (keys === undefined) return;
  const failure = readBackFailure(payload);
  if (failure !== undefined) throw new NotSerializableError(pathText(keys), kReason, { cause: failure });
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
