import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError, NotSerializableError, RemoteError, type WorkerHandle } from '../../src/index.js';
import { hostileValue } from '../fixtures/hostile-values.js';
import type { HostileOutcome, HostileValue, PlatformObjectKind, SymbolStateKind, ToPrimary, ToWorker } from '../fixtures/protocol.js';
import { testOptions, testPrimary, track } from '../helpers/primary.js';

const kLimit = 512 * 1024;

/**
 * `hostile` (its `held` field refused `because`; `message`, the whole reason) is refused in every
 * direction: from the worker a store write, a request, a sendTo() relay, a reply; from the primary
 * a request, a notification, a broadcast, a store write.
 */
async function expectRefusedEverywhere(primary: ClusterPrimary<ToWorker, ToPrimary>, worker: WorkerHandle, serialization: string, hostile: HostileValue, because: string, message: string): Promise<void> {
  const { kind } = hostile;
  const stored = await primary.send(worker, 'tryHostile', { how: 'store', value: hostile });
  expect({ serialization, kind, ...stored.error }).toMatchObject({ serialization, kind, name: 'NotSerializableError', code: 'ERR_NOT_SERIALIZABLE', isNotSerializableError: true });
  expect(stored.error!.message).toBe(`Cannot store the value of "hostile", at value.held: ${message}`);
  expect(primary.store.has('hostile')).toBe(false);
  expect((await primary.send(worker, 'tryHostile', { how: 'ask', value: hostile })).error!.message).toContain(`Cannot send payload.held: ${because}`);
  expect((await primary.send(worker, 'tryHostile', { how: 'relay', value: hostile })).error!.message).toContain(`Cannot send payload.held: ${because}`);
  const reply = await primary.send(worker, 'hostileReply', { value: hostile }).catch((caught: unknown) => caught);
  expect((reply as RemoteError).remoteMessage).toContain(`Cannot send the reply to "hostileReply", field reply.held: ${because}`);
  const value = hostileValue(hostile);
  await expect(primary.send(worker, 'echo', value)).rejects.toThrow(`Cannot send payload.held: ${because}`);
  expect(() => primary.notify(worker, 'echo', value)).toThrow(`Cannot send payload.held: ${because}`);
  await expect(primary.broadcast('echo', value)).rejects.toThrow(`Cannot send payload.held: ${because}`);
  expect(() => primary.store.set('hostile', value)).toThrow(`Cannot store the value of "hostile", at value.held: ${because}`);
  expect(primary.store.has('hostile')).toBe(false);
}

describe('payload fidelity across IPC', () => {
  // Before: the size walk counted an array's elements only, while V8's `advanced` serializer
  // also sends its named properties: a worker stored 100 MB through a 16 MiB limit and the
  // primary was OOM-killed.
  it('[H28] refuses, in the worker, what V8 would send beyond the elements (array named properties, an Error cause) over maxMessageBytes; counts it in the store budget', async () => {
    const primary = testPrimary({ serialization: 'advanced', maxMessageBytes: kLimit, maxStoreBytes: 4 * 1024 * 1024 });
    const [worker] = await primary.start();
    const tryHostile = (how: 'store' | 'ask', kind: 'padded-array' | 'padded-sparse-array' | 'error-cause', padLength: number): Promise<HostileOutcome> =>
      primary.send(worker!, 'tryHostile', { how, value: { kind, padLength } }, { timeoutMs: 60_000 });
    for (const kind of ['padded-array', 'padded-sparse-array', 'error-cause'] as const) {
      for (const how of ['store', 'ask'] as const) {
        // The store checks against the primary's limit; the worker's own send against its own (16 MiB by default).
        const outcome = await tryHostile(how, kind, how === 'store' ? 2 * kLimit : 17 * 1024 * 1024);
        expect({ how, kind, ...outcome }).toMatchObject({ how, kind, ok: false, error: { name: 'MessageTooLargeError', code: 'ERR_MESSAGE_TOO_LARGE', isMessageTooLargeError: true } });
      }
    }
    expect(primary.store.has('hostile')).toBe(false);
    // Under the limit it is stored, arrives whole, and counts in the budget.
    await expect(tryHostile('store', 'padded-array', 300_000)).resolves.toEqual({ ok: true });
    expect((primary.store.get('hostile') as { pad: string }).pad).toHaveLength(300_000);
    expect(primary.store.bytes).toBeGreaterThanOrEqual(300_000);
    // The primary serves on.
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
  }, 90_000);

  it('[H28] refuses an array with named properties under JSON (it would drop them), naming the field', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const outcome = await primary.send(worker!, 'tryHostile', { how: 'store', value: { kind: 'padded-array', padLength: 10 } });
    expect(outcome).toMatchObject({ ok: false, error: { name: 'NotSerializableError', isNotSerializableError: true } });
    expect(outcome.error!.message).toMatch(/\.pad: JSON serialization writes the elements of an array only, and drops its named properties/);
    expect(primary.store.has('hostile')).toBe(false);
  }, 90_000);

  // Before (hostile tester t29 L3): `Cannot send payload.value.pad` and `payload.payload.pad`,
  // the library's envelope around the one value the caller passed.
  it('[H283] a value refused in store.set() or sendTo() is named by the caller\'s argument, not by the envelope it travels in', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const refusal = async (how: 'store' | 'relay' | 'ask') => (await primary.send(worker!, 'tryHostile', { how, value: { kind: 'padded-array', padLength: 10 } })).error!.message;
    // A store write says so, with its key (H356).
    expect(await refusal('store')).toMatch(/^Cannot store the value of "hostile", at value\.pad: JSON serialization writes the elements of an array only/);
    expect(await refusal('relay')).toMatch(/^Cannot send payload\.pad: JSON serialization writes the elements of an array only/);
    expect(await refusal('ask')).toMatch(/^Cannot send payload\.pad: /);
  }, 90_000);

  // Before: a reply over maxMessageBytes was reported as NotSerializableError (the store's
  // `entries()` in the worker, a handler's reply in the primary), though the docs said MessageTooLargeError.
  it('[H43] a reply over maxMessageBytes is a MessageTooLargeError saying it was the reply, in both directions', async () => {
    const primary = testPrimary({ maxMessageBytes: 64 * 1024, serialization: 'advanced' });
    const [worker] = await primary.start();
    for (let index = 0; index < 4; index++) primary.store.set(`big${index}`, 'v'.repeat(30_000));
    // The primary's reply to the worker's store.entries().
    const outcome = await primary.send(worker!, 'tryHostile', { how: 'storeEntries', value: { kind: 'padded-array', padLength: 0 }, prefix: 'big' });
    expect(outcome).toMatchObject({ ok: false, error: { name: 'MessageTooLargeError', code: 'ERR_MESSAGE_TOO_LARGE', isMessageTooLargeError: true, isReply: true } });
    expect(outcome.error!.message).toMatch(/^The reply to "store\.entries\('big'\)" is about 117\.\d KiB, over the 64\.0 KiB limit \(option "maxMessageBytes" of the replying process\)/);
    // A worker handler's reply to the primary (over the worker's own limit, 16 MiB by default).
    const error = await primary.send(worker!, 'hostileReply', { value: { kind: 'padded-array', padLength: 17 * 1024 * 1024 } }, { timeoutMs: 60_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteName: 'MessageTooLargeError', remoteCode: 'ERR_MESSAGE_TOO_LARGE' });
    expect((error as RemoteError).message).toContain('The reply to "hostileReply" is about');
    // [H558] Before (lib t58): its cause said "The payload of "hostileReply"" for the same reply.
    expect(String((error as RemoteError).cause)).not.toContain('The payload of');
    // Smaller prefixes still work.
    await expect(primary.send(worker!, 'storeOp', { op: 'entries', args: ['big0'] })).resolves.toHaveLength(1);
  }, 90_000);

  // Before: docs/shared-store.md said both "its size on the wire" and "a string: its length + 2"
  // (the wire size of control characters is 6 times that with JSON).
  it('[H44] the store budget counts a value as maxMessageBytes does: the estimate, or the exact wire size near the limit; the wire size is at most 6 times the count', () => {
    const primary = testPrimary({ maxMessageBytes: 64 * 1024 });
    const counted = (key: string, value: string) => {
      const before = primary.store.bytes;
      primary.store.set(key, value);
      return primary.store.bytes - before - key.length - 112; // the entry's overhead (store-overhead.ts)
    };
    const escaped = '\x01'.repeat(10_000); // 60 002 bytes of JSON: its estimate times 6 fits 64 KiB
    expect(counted('a', escaped)).toBe(10_002);
    expect(Buffer.byteLength(JSON.stringify(escaped))).toBeLessThanOrEqual(6 * 10_002);
    expect(counted('b', 'x'.repeat(20_000))).toBe(20_002); // near the limit: measured exactly, same size
    expect(() => primary.store.set('c', '\x01'.repeat(20_000))).toThrow(/about 117\.2 KiB, over the 64\.0 KiB limit/); // 120 002 bytes on the wire
    expect(primary.store.has('c')).toBe(false);
  });

  // Before: `maxStoreBytes: 2 ** 60` was refused as "must be a positive integer".
  it('[H45] byte and count options refused past Number.MAX_SAFE_INTEGER say the real rule', () => {
    for (const option of ['maxStoreBytes', 'maxStoreKeys']) {
      const make = () => new ClusterPrimary(testOptions(undefined, { [option]: 2 ** 60 }));
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(/must be a positive integer at most Number\.MAX_SAFE_INTEGER \(9007199254740991\)(, or Infinity)?\. Received 1152921504606847000/);
    }
    // maxMessageBytes says its floor and its ceiling (H355, H715).
    expect(() => new ClusterPrimary(testOptions(undefined, { maxMessageBytes: 2 ** 60 }))).toThrow(/must be an integer of bytes from 8192 \(8 KiB: [^)]*\) to 268435456 \(256 MiB: [^)]*\)\. Received 1152921504606847000/);
    expect(() => new ClusterPrimary(testOptions(undefined, { maxStoreBytes: Number.MAX_SAFE_INTEGER }))).not.toThrow();
    expect(() => new ClusterPrimary(testOptions(undefined, { workerCount: 2 ** 53 }))).toThrow(/non-negative integer at most Number\.MAX_SAFE_INTEGER/);
  });
  // Hostile t83 #2: V8 writes an Error whose cause leads back to it, and cannot read it back.
  // Before: a worker sending one (a reply, send(), store.set()) was killed, the primary blaming
  // bytes written below process.send(); the primary sending one crashed the worker.
  it('[H725] with advanced, an Error whose cause leads back to it is a NotSerializableError at the call, in both directions; no process dies', async () => {
    const looped: HostileValue = { kind: 'error-cause-loop', padLength: 0 };
    class LoopingPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
      _onMessage_loopedReply(): unknown {
        return hostileValue(looped);
      }
    }
    const primary = track(new LoopingPrimary(testOptions(undefined, { serialization: 'advanced' })));
    const troubles: Error[] = [];
    primary.on('workerError', ({ error }) => troubles.push(error));
    primary.on('workerExit', ({ worker }) => troubles.push(new Error(`worker ${worker.id} exited`)));
    const [worker] = (await primary.start()) as [WorkerHandle];
    const kReason = ': it is the Error whose cause holds it (an Error\'s cause leads back to the Error): V8\'s serializer writes that cycle but cannot read it back';
    const refusal = async (how: 'store' | 'ask' | 'relay') => (await primary.send(worker, 'tryHostile', { how, value: looped })).error;
    // From the worker: a request, a store write, a sendTo() relay, a handler's reply.
    const asked = await refusal('ask');
    expect(asked).toMatchObject({ name: 'NotSerializableError', code: 'ERR_NOT_SERIALIZABLE', isNotSerializableError: true });
    expect(asked!.message).toContain(`Cannot send payload.err.cause.err${kReason}`);
    expect(asked!.causes).toEqual(expect.arrayContaining([expect.stringMatching(/Unable to deserialize cloned data/)]));
    expect((await refusal('store'))!.message).toMatch(/^Cannot store the value of "hostile", at value\.err\.cause\.err: it is the Error whose cause holds it/);
    expect((await refusal('relay'))!.message).toMatch(/^Cannot send payload\.err\.cause\.err: it is the Error whose cause holds it/);
    const reply = await primary.send(worker, 'hostileReply', { value: looped }).catch((caught: unknown) => caught);
    expect(reply).toBeInstanceOf(RemoteError);
    expect(reply).toMatchObject({ remoteName: 'NotSerializableError', remoteCode: 'ERR_NOT_SERIALIZABLE' });
    expect((reply as RemoteError).remoteMessage).toContain(`Cannot send the reply to "hostileReply", field reply.err.cause.err${kReason}`);
    // From the primary: a request, a notification, a broadcast, a store write, a handler's reply.
    const value = hostileValue(looped);
    await expect(primary.send(worker, 'echo', value)).rejects.toThrow(NotSerializableError);
    await expect(primary.send(worker, 'echo', value)).rejects.toThrow(`Cannot send payload.err.cause.err${kReason}`);
    expect(() => primary.notify(worker, 'echo', value)).toThrow(NotSerializableError);
    await expect(primary.broadcast('echo', value)).rejects.toThrow(/^Cannot send payload\.err\.cause\.err: it is the Error whose cause holds it/);
    expect(() => primary.store.set('looped', value)).toThrow(/^Cannot store the value of "looped", at value\.err\.cause\.err: it is the Error whose cause holds it/);
    expect(primary.store.has('looped')).toBe(false);
    const answer = await primary.send(worker, 'askPrimary', { type: 'loopedReply' }).catch((caught: unknown) => caught);
    expect((answer as RemoteError).message).toContain(`Cannot send the reply to "loopedReply", field reply.err.cause.err${kReason}`);
    // A cycle through a cause that V8 reads back (the holder written first) still crosses, both ways.
    const readable: HostileValue = { kind: 'error-cause-readable', padLength: 0 };
    await expect(primary.send(worker, 'tryHostile', { how: 'store', value: readable })).resolves.toEqual({ ok: true });
    const [holder, held] = primary.store.get('hostile') as [{ err: Error }, Error];
    expect(held.cause).toBe(holder);
    expect(holder.err).toBe(held);
    const echoed = (await primary.send(worker, 'echo', hostileValue(readable))) as [{ err: Error }, Error];
    expect(echoed[1].cause).toBe(echoed[0]);
    // Nobody was killed: the same worker answers, and no worker error or exit was seen.
    await expect(primary.send(worker, 'whoami')).resolves.toMatchObject({ id: worker.id, pid: worker.pid });
    expect(troubles).toEqual([]);
  }, 90_000);

  // Hostile t83 #10: the primary's store.set() threw V8's raw Error for what its serializer cannot
  // copy ("#<SharedArrayBuffer> could not be cloned.", "Unserializable host object: ..."), where send() said NotSerializableError.
  it('[H726] with advanced, the primary\'s store.set() of what V8 cannot copy is a NotSerializableError naming the key, with V8\'s error as cause', () => {
    const primary = testPrimary({ serialization: 'advanced' });
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    const uncopyable: Array<[string, unknown]> = [
      ['sab', new SharedArrayBuffer(8)],
      // A Blob, a MessagePort, a KeyObject: refused before the copy, by the walk (H750).
      ['detached', detached],
      ['proxy', new Proxy([1, 2], {})],
      ['arguments', (function (..._: unknown[]) { return arguments; })(1, 2)],
      ['env', process.env],
      ['nested', { deep: [{ sab: new SharedArrayBuffer(8) }] }],
    ];
    for (const [key, value] of uncopyable) {
      let caught: unknown;
      try {
        primary.store.set(key, value);
      } catch (error) {
        caught = error;
      }
      expect({ key, isNotSerializable: caught instanceof NotSerializableError }).toEqual({ key, isNotSerializable: true });
      const refusal = caught as NotSerializableError;
      expect(refusal).toMatchObject({ code: 'ERR_NOT_SERIALIZABLE', storeKey: key, path: 'value' });
      expect(refusal.message).toMatch(new RegExp(`^Cannot store the value of "${key}": V8's serializer cannot copy it \\([^\\n]{1,125}\\); store plain data \\(objects, arrays, strings, numbers, Buffers, Maps, Sets\\.\\.\\.\\) instead$`));
      expect((refusal.cause as Error).message).toMatch(/could not be cloned|Unserializable host object/);
      expect(primary.store.has(key)).toBe(false);
      // compareAndSet() names its own argument.
      expect(() => primary.store.compareAndSet(key, undefined, value)).toThrow(new RegExp(`^Cannot store the value of "${key}": V8's serializer cannot copy it`));
    }
    // What it can copy is stored as before.
    primary.store.set('view', new Int32Array(new SharedArrayBuffer(8)));
    expect(primary.store.get('view')).toEqual(new Int32Array(2));
  });

  // Hostile t84 #1: a WebAssembly.Module anywhere in a payload, and a host object whose fields lead
  // back to it, are written by V8 and cannot be read back by another process. Before: the primary
  // sending one crashed the worker (a broadcast, every worker), a worker sending one was killed
  // (SIGKILL), the primary blaming its own process.send().
  it('[H739] with advanced, a WebAssembly.Module and a host object holding itself are a NotSerializableError at the call, in both directions; no process dies', async () => {
    class HostilePrimary extends ClusterPrimary<ToWorker, ToPrimary> {
      _onMessage_loopedReply(): unknown {
        return hostileValue({ kind: 'wasm-module', padLength: 0 });
      }
    }
    const primary = track(new HostilePrimary(testOptions(undefined, { serialization: 'advanced', workerCount: 2 })));
    const troubles: Error[] = [];
    primary.on('workerError', ({ error }) => troubles.push(error));
    primary.on('workerExit', ({ worker }) => troubles.push(new Error(`worker ${worker.id} exited`)));
    const workers = (await primary.start()) as [WorkerHandle, WorkerHandle];
    const [worker] = workers;
    const kWasm = ': a WebAssembly.Module: V8\'s serializer writes it, but only a thread of the same process can read it back';
    // A Blob or a MessagePort is refused alone now, before its fields are walked (H750).
    const kBlob = ': a Blob holds its data outside its own fields, so it would arrive as {}';
    const kPort = ': a MessagePort (an EventTarget) holds its data outside its own fields, so it would arrive as {}';
    const cases: Array<[HostileValue['kind'], string, string]> = [
      ['wasm-module', 'payload.list[0].module', kWasm],
      ['blob-self', 'payload.blob', kBlob],
      ['port-self', 'payload.port', kPort],
    ];
    for (const [kind, path, reason] of cases) {
      const hostile: HostileValue = { kind, padLength: 4 };
      // From the worker: a request, a store write, a sendTo() relay, a handler's reply.
      const asked = (await primary.send(worker, 'tryHostile', { how: 'ask', value: hostile })).error;
      expect({ kind, ...asked }).toMatchObject({ kind, name: 'NotSerializableError', code: 'ERR_NOT_SERIALIZABLE', isNotSerializableError: true });
      expect(asked!.message).toContain(`Cannot send ${path}${reason}`);
      if (kind === 'wasm-module') expect(asked!.causes).toEqual(expect.arrayContaining([expect.stringMatching(/Unable to deserialize cloned data/)]));
      const stored = (await primary.send(worker, 'tryHostile', { how: 'store', value: hostile })).error;
      expect(stored!.message).toContain(`Cannot store the value of "hostile", at value${path.slice('payload'.length)}${reason}`);
      expect((await primary.send(worker, 'tryHostile', { how: 'relay', value: hostile })).error!.message).toContain(`Cannot send ${path}${reason}`);
      const reply = await primary.send(worker, 'hostileReply', { value: hostile }).catch((caught: unknown) => caught);
      expect(reply).toMatchObject({ remoteName: 'NotSerializableError', remoteCode: 'ERR_NOT_SERIALIZABLE' });
      expect((reply as RemoteError).remoteMessage).toContain(`Cannot send the reply to "hostileReply", field reply${path.slice('payload'.length)}${reason}`);
      // From the primary: a request, a notification, a broadcast, a store write.
      const value = hostileValue(hostile);
      await expect(primary.send(worker, 'echo', value)).rejects.toThrow(`Cannot send ${path}${reason}`);
      expect(() => primary.notify(worker, 'echo', value)).toThrow(NotSerializableError);
      await expect(primary.broadcast('echo', value)).rejects.toThrow(`Cannot send ${path}${reason}`);
      expect(() => primary.store.set('hostile', value)).toThrow(`Cannot store the value of "hostile", at value${path.slice('payload'.length)}${reason}`);
      expect(primary.store.has('hostile')).toBe(false);
    }
    const answer = await primary.send(worker, 'askPrimary', { type: 'loopedReply' }).catch((caught: unknown) => caught);
    expect((answer as RemoteError).message).toContain(`Cannot send the reply to "loopedReply", field reply.list[0].module${kWasm}`);
    // Cycles V8 reads back still cross: through a plain object written before the class instance
    // that holds it, a class instance holding itself.
    const readable: HostileValue = { kind: 'host-cycle-readable', padLength: 0 };
    await expect(primary.send(worker, 'tryHostile', { how: 'store', value: readable })).resolves.toEqual({ ok: true });
    const kept = primary.store.get('hostile') as { holder: { link: { holder: unknown } }; node: { self: unknown } };
    expect(kept.holder.link.holder).toBe(kept.holder);
    expect(kept.node.self).toBe(kept.node);
    const echoed = (await primary.send(worker, 'echo', hostileValue(readable))) as typeof kept;
    expect(echoed.holder.link.holder).toBe(echoed.holder);
    // Nobody was killed: both workers answer, and no worker error or exit was seen.
    for (const each of workers) await expect(primary.send(each, 'whoami')).resolves.toMatchObject({ id: each.id, pid: each.pid });
    expect(troubles).toEqual([]);
  }, 120_000);
  // Retest t86 N4: under advanced, a worker's store.set('k', new Blob(['x'])) stored {} (Node's IPC
  // writes a host object as its own fields); under JSON, a Blob or a WebAssembly.Module anywhere
  // in a payload was sent as {}, in both directions. The whole kind: objects whose data is not in
  // their own fields.
  it('[H750] a Blob, a File, a MessagePort, a KeyObject, a WebAssembly instance or memory, a stream, URLSearchParams: a NotSerializableError naming the path and the type, in both modes and directions', async () => {
    const kinds: Array<[PlatformObjectKind, string]> = [
      ['blob', 'a Blob'],
      ['file', 'a File'],
      ['message-port', 'a MessagePort (an EventTarget)'],
      ['key-object', 'a SecretKeyObject (a KeyObject)'],
      ['wasm-instance', 'a WebAssembly.Instance'],
      ['wasm-memory', 'a WebAssembly.Memory'],
      ['readable-stream', 'a ReadableStream'],
      ['url-search-params', 'a URLSearchParams'],
    ];
    for (const serialization of ['json', 'advanced'] as const) {
      const primary = testPrimary({ serialization });
      const [worker] = await primary.start();
      const reason = ` holds its data outside its own fields, so it would arrive as {} (${serialization === 'json' ? 'JSON writes it so' : "Node's IPC copies only its own fields"})`;
      for (const [kind, what] of kinds) {
        const because = `${what}${reason}`;
        // Before, under advanced: a worker's store write stored {}.
        await expectRefusedEverywhere(primary, worker!, serialization, { kind, padLength: 2 }, because, `${because}; send what it holds as plain data instead (a Blob's bytes as a Buffer or a string, a key exported, a URL as its href...)`);
      }
      if (serialization === 'json') {
        // With JSON, a WebAssembly.Module too (with advanced, H739 refuses it).
        await expect(primary.send(worker!, 'echo', hostileValue({ kind: 'wasm-module', padLength: 0 }))).rejects.toThrow(`Cannot send payload.list[0].module: a WebAssembly.Module${reason}`);
        // What JSON writes faithfully by the type's own toJSON() still crosses: a URL, as its href.
        await expect(primary.send(worker!, 'echo', { url: new URL('http://example.com/a') })).resolves.toEqual({ url: 'http://example.com/a' });
      } else await expect(primary.send(worker!, 'echo', { url: new URL('http://example.com/a') })).rejects.toThrow('Cannot send payload.url: a URL holds its data outside its own fields');
      // A class of one's own that declares its tag (a getter) is carried as any class instance: its own fields.
      class Tagged {
        readonly n = 1;
        get [Symbol.toStringTag](): string {
          return 'Tagged';
        }
      }
      await expect(primary.send(worker!, 'echo', { tagged: new Tagged(), map: serialization === 'json' ? {} : new Map([[1, 2]]) })).resolves.toEqual({ tagged: { n: 1 }, map: serialization === 'json' ? {} : new Map([[1, 2]]) });
      await expect(primary.send(worker!, 'whoami')).resolves.toMatchObject({ id: worker!.id });
    }
  }, 120_000);

  // Retest t89 N1: a net.BlockList, a net.SocketAddress, a crypto Hash... declare no
  // Symbol.toStringTag (H750 missed them) and keep their data under symbol keys (Node's kHandle):
  // under advanced, primary.send(w, 'desc', { x: new net.BlockList() }) arrived as {"x":{}} while
  // primary.store.set() of it was refused; under JSON a BlockList and a Hash arrived as {}.
  it('[H766] a BlockList, a SocketAddress, a Hash, an Hmac, a Cipher, an ECDH, a class with symbol-keyed state only: a NotSerializableError naming the path and the type, in both modes and directions', async () => {
    // Each kind, and the type its refusal names (its constructor's name).
    const names: Record<SymbolStateKind, string> = { 'block-list': 'a BlockList', 'socket-address': 'a SocketAddress', hash: 'a Hash', hmac: 'a Hmac', cipher: 'a Cipheriv', ecdh: 'an ECDH', 'symbol-state': 'a SymbolCounter' };
    const kinds = Object.entries(names) as Array<[SymbolStateKind, string]>;
    for (const serialization of ['json', 'advanced'] as const) {
      const primary = testPrimary({ serialization });
      const [worker] = await primary.start();
      const reason = ` holds its data under symbol keys (or in the native object they lead to), which ${serialization === 'json' ? 'JSON' : "Node's IPC"} does not write, so it would arrive as {}`;
      const advice = '; send what it holds as plain data instead (an address as { address, port }, a digest as a string, a class of your own with string-keyed fields...)';
      for (const [kind, what] of kinds) {
        const hostile: HostileValue = { kind, padLength: 2 };
        const value = hostileValue(hostile);
        // With JSON, what a type's toJSON() returns is what is written: a SocketAddress's address and port, carried.
        if (serialization === 'json' && kind === 'socket-address') {
          await expect(primary.send(worker!, 'echo', value)).resolves.toEqual({ held: { address: '127.0.0.1', port: 80, family: 'ipv4', flowlabel: 0 }, pad: 'xx' });
          continue;
        }
        const because = `${what}${reason}`;
        // Before, under advanced: the primary's request arrived as {"held":{},"pad":"xx"}, its store write was refused by V8.
        await expectRefusedEverywhere(primary, worker!, serialization, hostile, because, `${because}${advice}`);
      }
      // What holds nothing, or holds its data in string-keyed fields, is carried as before: an
      // empty class instance as {}, an EventEmitter (its symbol-keyed state aside) as its own fields.
      class Empty {}
      const kId = Symbol('id');
      class Holder {
        readonly n = 1;
        readonly [kId] = 2;
      }
      await expect(primary.send(worker!, 'echo', { empty: new Empty(), holder: new Holder() })).resolves.toEqual({ empty: {}, holder: { n: 1 } });
      await expect(primary.send(worker!, 'whoami')).resolves.toMatchObject({ id: worker!.id });
    }
  }, 120_000);
});
