/**
 * H352: an error reply carries the thrown error's cause chain, bounded, and the caller's
 * RemoteError revives it as its `cause`. Pure parts: serializeError() (the side that throws),
 * reviveRemoteCause() through the RemoteError constructor (the side that receives, which does
 * not trust the other), the relay's revival, and fitting a reply to a small maxMessageBytes.
 */
import { describe, expect, it } from '@jest/globals';
import { RemoteError, type SerializedCause, type SerializedError } from '../../src/errors.js';
import { fitErrorReply } from '../../src/messaging/inbound.js';
import { boundReceivedError, kMaxCauseDepth, reviveRemoteCause } from '../../src/messaging/remote-cause.js';
import { reviveClusterKitError } from '../../src/messaging/revive-error.js';
import { serializeError } from '../../src/messaging/serialize-error.js';
import { causeThrown } from '../fixtures/cause-thrown.js';
import { kUnreadableKinds, makeUnreadable } from '../fixtures/unreadable-values.js';

/** The causes below `error`, as a list: `cause`, `cause.cause`... */
function causesOf(error: SerializedError): SerializedCause[] {
  const causes: SerializedCause[] = [];
  for (let node: SerializedCause | undefined = error.cause; node !== undefined; node = 'name' in node ? node.cause : undefined) causes.push(node);
  return causes;
}

/** `error` as it arrives: through JSON, as a json-serialization channel carries it. */
function overJson(error: SerializedError): SerializedError {
  return JSON.parse(JSON.stringify(error)) as SerializedError;
}

type Revived = Error & { code?: string; port?: number; address?: string; cause?: unknown };

describe('[H352] serializeError carries the cause chain', () => {
  it('[H352] a chain of 3 with codes and fields: each cause flattened as the error is, down the chain', () => {
    const serialized = serializeError(causeThrown('chain'));
    expect(serialized).toMatchObject({ name: 'Error', message: 'db down', code: 'EDB' });
    const [pool, refused, ...rest] = causesOf(serialized) as SerializedError[];
    expect(rest).toEqual([]);
    expect(pool).toMatchObject({ name: 'Error', message: 'pool exhausted', code: 'EPOOL' });
    expect(pool!.stack).toMatch(/^Error: pool exhausted\n {4}at /);
    expect(refused).toMatchObject({ name: 'Error', message: 'ECONNREFUSED 5432', code: 'ECONNREFUSED', data: { port: 5432, address: '127.0.0.1' } });
    expect(overJson(serialized)).toEqual(serialized);
  });

  it('[H352] a cause that is not an Error is kept as a readable value', () => {
    const causeOf = (cause: unknown) => serializeError(new Error('top', { cause })).cause;
    expect(causeOf('a string')).toEqual({ value: 'a string' });
    expect(causeOf(42)).toEqual({ value: 42 });
    expect(causeOf(false)).toEqual({ value: false });
    expect(causeOf(null)).toEqual({ value: null });
    expect(causeOf({ query: 'SELECT 1', attempt: 2 })).toEqual({ value: { query: 'SELECT 1', attempt: 2 } });
    expect(causeOf(Number.NaN)).toEqual({ value: 'NaN' });
    expect(causeOf(10n)).toEqual({ value: '10' });
    expect(causeOf(Symbol('why'))).toEqual({ value: 'Symbol(why)' });
    expect(causeOf(function retry() {})).toEqual({ value: 'function retry' });
    // Too large for a JSON copy: described, at most 2,000 characters.
    expect((causeOf({ big: 'b'.repeat(100_000) }) as { value: string }).value).toMatch(/^\{"big":"b+\.\.\.$/);
    expect(((causeOf('S'.repeat(70_000)) as { value: string }).value).slice(-50)).toMatch(/S… \(70000 characters, cut to 65536\)$/);
    expect(causeOf(undefined)).toBeUndefined();
    expect(serializeError(new Error('no cause'))).not.toHaveProperty('cause');
  });

  it('[H352] hostile causes: a throwing getter, 10,000 deep, itself, a loop, 50 MB: bounded, never throws', () => {
    expect(serializeError(causeThrown('getter'))).not.toHaveProperty('cause');
    expect(serializeError(causeThrown('self'))).not.toHaveProperty('cause');
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    (first as { cause?: unknown }).cause = second;
    expect(causesOf(serializeError(first)).map((cause) => (cause as SerializedError).message)).toEqual(['second']);
    const deep = causesOf(serializeError(causeThrown('deep'))) as SerializedError[];
    expect(deep).toHaveLength(kMaxCauseDepth);
    expect(kMaxCauseDepth).toBe(8);
    expect(deep.map((cause) => cause.message)).toEqual(Array.from({ length: 8 }, (_, index) => `cause ${9_999 - index}`));
    const huge = causesOf(serializeError(causeThrown('huge'))) as SerializedError[];
    expect(huge[0]!.name).toBe('TypeError');
    expect(huge[0]!.message.slice(-50)).toMatch(/M… \(50000000 characters, cut to 65536\)$/);
    expect(huge[0]!.message.length).toBe(65_536);
    expect(huge[0]!.stack!.length).toBeLessThanOrEqual(65_536);
    // A getter that makes a new cause at every read: still 8 deep.
    const endless = (depth: number): Error => Object.defineProperty(new Error(`level ${depth}`), 'cause', { get: () => endless(depth + 1) });
    expect(causesOf(serializeError(endless(0)))).toHaveLength(8);
  });

  it('[H352] eight causes of 50 MB messages, stacks and fields: the reply stays within about 3.5 MiB', () => {
    const text = 'X'.repeat(50_000_000);
    let error: Error = new Error(text);
    for (let depth = 0; depth < 20; depth++) {
      error = Object.assign(new Error(text, { cause: error }), Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`field${index}`, 'f'.repeat(900)])));
      error.stack = text;
    }
    const serialized = serializeError(error);
    expect(causesOf(serialized)).toHaveLength(8);
    // Lengths compared as numbers: a failed match would print megabytes.
    for (const cause of causesOf(serialized) as SerializedError[]) {
      expect(cause.message.length).toBe(65_536);
      expect(cause.stack!.length).toBeLessThanOrEqual(65_536);
      expect(Object.keys(cause.data!)).toHaveLength(32);
    }
    expect(JSON.stringify(serialized).length).toBeLessThan(3.5 * 1024 * 1024);
  });

  it('[H352] a cause field over 1 KiB of JSON is left out', () => {
    const cause = Object.assign(new Error('root'), { small: 'ok', large: 'l'.repeat(2_000) });
    expect((serializeError(new Error('top', { cause })).cause as SerializedError).data).toEqual({ small: 'ok' });
  });

  it('[H352] an unreadable cause of every kind: never throws, JSON- and clone-safe, readable on arrival', () => {
    for (const kind of kUnreadableKinds) {
      const serialized = serializeError(new Error(`top ${kind}`, { cause: makeUnreadable(kind) }));
      expect(serialized.message).toBe(`top ${kind}`);
      expect(overJson(serialized)).toEqual(serialized);
      expect(() => structuredClone(serialized)).not.toThrow();
      const remote = new RemoteError('t', 'worker 1', overJson(serialized));
      // An Error, or a value: a description, or a JSON copy of an object that is not an Error.
      expect(remote.cause === undefined || remote.cause instanceof Error || ['string', 'object'].includes(typeof remote.cause)).toBe(true);
      if (remote.cause instanceof Error) expect(() => `${String(remote.cause)} ${(remote.cause as Error).stack}`).not.toThrow();
    }
    const getter = serializeError(new Error('top', { cause: makeUnreadable('messageGetter') })).cause;
    expect(getter).toMatchObject({ name: 'Error', message: '(its message could not be read)' });
  });
});

describe('[H352] RemoteError revives the cause chain', () => {
  it('[H352] as plain Errors with the remote name, message, code, stack and fields, each with its cause', () => {
    const remote = new RemoteError('query', 'worker 2 (pid 42)', overJson(serializeError(causeThrown('chain'))));
    expect(remote).toMatchObject({ remoteMessage: 'db down', remoteCode: 'EDB' });
    const pool = remote.cause as Revived;
    expect(pool).toBeInstanceOf(Error);
    expect(pool).not.toBeInstanceOf(RemoteError);
    expect(pool).toMatchObject({ name: 'Error', message: 'pool exhausted', code: 'EPOOL' });
    expect(pool.stack).toMatch(/^Error: pool exhausted\n {4}at .*cause-thrown/);
    const refused = pool.cause as Revived;
    expect(refused).toMatchObject({ message: 'ECONNREFUSED 5432', code: 'ECONNREFUSED', port: 5432, address: '127.0.0.1' });
    expect(refused.cause).toBeUndefined();
    expect(Object.keys(refused)).toEqual(['code', 'port', 'address']);
    // A remote TypeError is named so, and says so when printed; it is not a local TypeError.
    const typed = new RemoteError('t', 'p', overJson(serializeError(new Error('top', { cause: new TypeError('x is undefined') })))).cause as Error;
    expect(String(typed)).toBe('TypeError: x is undefined');
    expect(typed).not.toBeInstanceOf(TypeError);
  });

  it('[H352] a non-Error cause arrives as the value; no cause, no cause property', () => {
    const remoteOf = (cause: unknown) => new RemoteError('t', 'p', overJson(serializeError(new Error('top', { cause }))));
    expect(remoteOf('a string').cause).toBe('a string');
    expect(remoteOf(42).cause).toBe(42);
    expect(remoteOf(null).cause).toBeNull();
    expect(remoteOf({ attempt: 2 }).cause).toEqual({ attempt: 2 });
    expect((remoteOf(new Error('mid', { cause: 'why' })).cause as Error).cause).toBe('why');
    expect(remoteOf(undefined)).not.toHaveProperty('cause');
  });

  it('[H352] a hostile wire: 10,000 deep, fields that would shadow Error methods, huge texts, junk: bounded, never throws', () => {
    // Built from the root up, as a hostile peer would write it.
    let wire: unknown = { name: 'Error', message: 'root' };
    for (let depth = 1; depth < 10_000; depth++) wire = { name: 'Error', message: `cause ${depth}`, cause: wire };
    let revived = reviveRemoteCause(wire);
    let depth = 0;
    for (; revived instanceof Error; revived = revived.cause) depth++;
    expect(depth).toBe(8);
    const shadow = reviveRemoteCause({
      name: 'N'.repeat(1_000),
      message: 'M'.repeat(100_000),
      code: 'C'.repeat(1_000),
      stack: 'S'.repeat(100_000),
      data: { toString: 'not a function', constructor: 'c', __proto__x: 1, message: 'm', stack: 's', cause: 'c', code: 'c', ok: 1 },
    }) as Revived;
    expect(shadow.name.length).toBe(256);
    expect(shadow.message.length).toBe(65_536);
    expect(shadow.code!.length).toBe(256);
    expect(shadow.stack!.length).toBe(65_536);
    expect(Object.keys(shadow)).toEqual(['code', '__proto__x', 'ok']);
    expect(() => String(shadow)).not.toThrow();
    const fields = reviveRemoteCause({ name: 'E', message: 'm', data: Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`f${index}`, index])) }) as Revived;
    expect(Object.keys(fields)).toHaveLength(32);
    for (const junk of [undefined, null, 'a string', 42, [], [{ name: 'E', message: 'm' }], { name: 1, message: 'm' }, { value: undefined }, { other: 1 }]) {
      expect(reviveRemoteCause(junk)).toBeUndefined();
    }
    expect((reviveRemoteCause({ value: 'V'.repeat(100_000) }) as string).slice(-50)).toMatch(/V… \(100000 characters, cut to 65536\)$/);
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); } });
    expect(reviveRemoteCause(trap)).toBeUndefined();
    expect(reviveRemoteCause({ name: 'E', message: 'm', cause: trap })).toBeInstanceOf(Error);
    // No stack on the wire: no local frames pointing at clusterkit's receiving code.
    expect((reviveRemoteCause({ name: 'DbError', message: 'down' }) as Error).stack).toBe('DbError: down');
  });

  it('[H352] a relayed RemoteError (sendTo) passes the chain on, and the sender revives it', () => {
    // The target's error, as the primary got it, renamed by the relay and thrown to the sender.
    const atPrimary = new RemoteError('throwCause', 'worker 3', overJson(serializeError(causeThrown('chain'))));
    const relayed = new RemoteError('throwCause', 'worker 3', { name: atPrimary.remoteName, message: atPrimary.remoteMessage, code: atPrimary.remoteCode }, undefined, { cause: atPrimary.cause });
    const atSender = reviveClusterKitError(new RemoteError('$relay', 'the primary', overJson(serializeError(relayed)))) as RemoteError;
    expect(atSender).toMatchObject({ messageType: 'throwCause', peer: 'worker 3', remoteMessage: 'db down', remoteCode: 'EDB' });
    const pool = atSender.cause as Revived;
    expect(pool).toMatchObject({ message: 'pool exhausted', code: 'EPOOL' });
    expect(pool.cause).toMatchObject({ message: 'ECONNREFUSED 5432', code: 'ECONNREFUSED', port: 5432 });
    // Passed on again, its fields stay its own, not nested one level deeper per hop.
    expect(Object.keys(pool.cause as object)).toEqual(['code', 'port', 'address']);
  });
});

describe('[H352] an error reply with causes under a small maxMessageBytes', () => {
  const withCauses = (): SerializedError => {
    let error: Error = Object.assign(new Error('R'.repeat(60_000)), { detail: 'd' });
    for (let depth = 1; depth < 8; depth++) error = new Error(`${depth}${'C'.repeat(60_000)}`, { cause: error });
    const top = Object.assign(new Error('top', { cause: error }), { info: 'i'.repeat(50_000) });
    top.stack = `Error: top\n${'T'.repeat(20_000)}`;
    return serializeError(top);
  };

  it('[H352] leaves out data, then the causes\' stacks and fields (messages cut to 512), then the stack, then the causes', () => {
    const full = withCauses();
    const light = fitErrorReply(full, 'json', 100_000);
    expect(light.data).toBeUndefined();
    expect(light.stack).toMatch(/^Error: top\n/);
    const causes = causesOf(light) as SerializedError[];
    expect(causes).toHaveLength(8);
    for (const cause of causes) {
      expect(cause.message).toMatch(/… \(600\d\d characters, cut to 512\)$/);
      expect(cause).not.toHaveProperty('stack');
      expect(cause).not.toHaveProperty('data');
    }
    const noStack = fitErrorReply(full, 'json', 20_000);
    expect(noStack.stack).toBeUndefined();
    expect(causesOf(noStack)).toHaveLength(8);
    const bare = fitErrorReply({ ...full, message: 'M'.repeat(60_000) }, 'advanced', 12_000);
    expect(bare.cause).toBeUndefined();
    expect(bare.message).toMatch(/… \(60000 characters, cut to 1000\)$/);
    expect(fitErrorReply(full, 'json', 16 * 1024 * 1024)).toBe(full);
  });
});

describe('[H639] what a peer sends is bounded as a clusterkit sender bounds it', () => {
  it('[H639] a forged error reply: its fields and its cause\'s, cut or left out', () => {
    const forged: SerializedError = {
      name: 'N'.repeat(1_000),
      message: 'm'.repeat(100_000),
      code: 'C'.repeat(1_000),
      stack: 's'.repeat(100_000),
      data: { big: 'y'.repeat(100_000), obj: { a: 'z'.repeat(70_000) }, small: 7 },
      cause: { name: 'Error', message: 'root', data: { long: 'w'.repeat(50_000), object: { a: 'v'.repeat(5_000) }, port: 5432 } },
    };
    const bounded = boundReceivedError(forged);
    expect(bounded.name.length).toBeLessThanOrEqual(256);
    expect(bounded.code!.length).toBeLessThanOrEqual(256);
    expect(bounded.message.length).toBeLessThanOrEqual(65_536);
    expect(bounded.stack!.length).toBeLessThanOrEqual(65_536);
    expect((bounded.data!.big as string).length).toBeLessThanOrEqual(65_536);
    expect(bounded.data).not.toHaveProperty('obj');
    expect(bounded.data!.small).toBe(7);
    // Retest t64: a forged cause's fields were kept up to 64 KiB, where a sender keeps 1 KiB.
    const cause = new RemoteError('t', 'worker 1', bounded).cause as Revived & { long?: string; object?: unknown };
    expect(cause.message).toBe('root');
    expect(cause.long!.length).toBeLessThanOrEqual(1_024);
    expect(cause).not.toHaveProperty('object');
    expect(cause.port).toBe(5432);
  });
});
