/**
 * The bulk pipe: a second pipe between the primary and each worker, beside node:cluster's IPC
 * channel, that carries the bytes of long strings (bulk-codec.ts) with `json` serialization.
 *
 * Node's IPC writes every message through `JSON.stringify` and reads it back through `JSON.parse`;
 * for a 10 KB string that is most of what a message costs (about 27 µs each way on Node 20,
 * against under 3 µs as raw UTF-8). The records themselves, their order, and everything else
 * (handles, node:cluster's own messages) stay on the IPC channel; a bulk record there names how
 * many bytes of this pipe are its strings. The pipe is one more `stdio` entry of the worker
 * (`'pipe'`, after the user's), whose number the worker reads from `CLUSTERKIT_BULK_FD`.
 *
 * A worker that opened the pipe says so (`$bulk`); only then does the primary write to it. The
 * primary reads it from the start. Not used on Windows (its stdio pipes are not sockets a child
 * can open by number), under Bun, with `advanced` serialization (V8's serializer already writes
 * strings as raw bytes), or when `CLUSTERKIT_BULK=0` is set in the primary's environment.
 */
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { WorkerStdio } from '../primary/primary-options.js';
import type { Serialization } from '../types.js';
import type { BulkPort } from './channel.js';
import { kBulkFdEnv } from '../worker-env.js';

/** Whether this process gives its workers a bulk pipe (see the top of this file). */
export function isBulkAvailable(serialization: Serialization): boolean {
  return serialization === 'json' && process.platform !== 'win32' && process.versions.bun === undefined && process.env.CLUSTERKIT_BULK !== '0';
}

/**
 * The worker's stdio with the bulk pipe appended: the user's array, or the one Node's `fork()`
 * builds from `silent`. The pipe's descriptor number is the array's length before it.
 */
export function stdioWithBulk(stdio: WorkerStdio | undefined, silent: boolean): WorkerStdio {
  const base: WorkerStdio = stdio ?? (silent ? ['pipe', 'pipe', 'pipe', 'ipc'] : [0, 1, 2, 'ipc']);
  return [...base, 'pipe'];
}

/** A bulk pipe's end as a channel writes to it. */
export function bulkPort(socket: Socket): BulkPort {
  // libuv's own queue (what the operating system has not taken yet) is the handle's
  // writeQueueSize, which Node's streams keep up to date as partial writes go out.
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return {
    write: (chunk, callback) => socket.write(chunk, callback),
    queued: () => ({ stream: socket.writableLength, system: handle?.writeQueueSize ?? 0 }),
  };
}

/** The primary's end of a worker's bulk pipe: the last of its stdio streams. */
export function primaryBulkEnd(stdio: ReadonlyArray<Readable | null | unknown>): Socket | undefined {
  const end = stdio[stdio.length - 1];
  return end instanceof Socket ? end : undefined;
}

/**
 * The bulk pipe's descriptor number, taken out of the environment as soon as clusterkit is
 * imported (before the code of the module that imports it runs): a process the worker starts
 * never sees it, nor takes a descriptor of its own for the pipe.
 */
const inheritedBulkFd = process.env[kBulkFdEnv];
delete process.env[kBulkFdEnv];

/**
 * The worker's end of its bulk pipe, or `undefined` when the primary gave it none (or it cannot
 * be opened).
 */
export function openWorkerBulkEnd(): Socket | undefined {
  const value = inheritedBulkFd;
  const fd = Number(value);
  if (value === undefined || !Number.isSafeInteger(fd) || fd < 3 || process.platform === 'win32' || process.versions.bun !== undefined) return undefined;
  try {
    const socket = new Socket({ fd, readable: true, writable: true });
    // The IPC channel keeps the worker alive, not this pipe.
    socket.unref();
    return socket;
  } catch {
    return undefined;
  }
}
