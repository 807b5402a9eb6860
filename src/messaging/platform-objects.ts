/**
 * Objects of a built-in or platform type whose data is not in their own fields (a Blob, a File, a
 * MessagePort, a KeyObject, a CryptoKey, a stream, a WebAssembly.Instance or Memory, an
 * AbortSignal, URLSearchParams, an iterator...): JSON writes them as `{}`, and Node's `advanced`
 * IPC as a copy of their own fields (`{}` again; V8's own serializer, the primary's store copy,
 * refuses them). Hostile t86 N4: a worker's `store.set('k', new Blob(['x']))` stored `{}`.
 *
 * Told by their `Symbol.toStringTag`: Web IDL, ECMAScript and Node define it on such a prototype
 * as a data property that is not writable ('Blob', 'EventTarget' for a MessagePort,
 * 'WebAssembly.Module'); a class of one's own declares it as a getter (`get [Symbol.toStringTag]()`),
 * and its instances, whose own fields are their data, are carried as any class instance.
 * Looked up once per prototype: a class instance costs one WeakMap lookup more, a plain object
 * or an array nothing (they never get here).
 *
 * Types that declare no tag and keep their data under symbol keys (a BlockList, a Hash: retest
 * t89 N1, H766) are told by their instance instead: see refuseSymbolState.
 */
import type { Walk } from './payload-walk.js';

/**
 * Tags not refused here: built-in types V8 carries faithfully, which a walk in another realm (a vm,
 * Jest) meets unrecognized; and a DOMException, which has rules of its own as an Error (refused
 * with JSON; with advanced written as any object, its own fields: docs/messaging.md).
 */
const kCarriedTags = new Set(['Map', 'Set', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'DOMException']);

/** A prototype's platform type name, or null for one whose instances carry their data in their own fields. */
const tagsByPrototype = new WeakMap<object, string | null>();

/** Refuses `value` (neither a plain object nor an array) when it is of a platform type; `toJSON` says what JSON writes instead (a URL's href: carried). */
export function refusePlatformObject(walk: Walk, value: object): void {
  const prototype = Object.getPrototypeOf(value) as object;
  let tag = tagsByPrototype.get(prototype);
  if (tag === undefined) {
    tag = platformTag(prototype);
    tagsByPrototype.set(prototype, tag);
  }
  if (tag === null) {
    refuseSymbolState(walk, value);
    return;
  }
  if (isWrittenByToJson(walk, value)) return;
  walk.fail(
    `${tag} holds its data outside its own fields, so it would arrive as {} (${walk.json ? 'JSON writes it so' : "Node's IPC copies only its own fields"}); ` +
      'send what it holds as plain data instead (a Blob\'s bytes as a Buffer or a string, a key exported, a URL as its href...)',
  );
}

/**
 * Retest t89 N1 (H766): a `net.BlockList`, a `net.SocketAddress`, a `crypto` Hash, Hmac, Cipher
 * or ECDH, an `X509Certificate`, declare no `Symbol.toStringTag`, and keep their data under
 * symbol keys (Node's `kHandle`, the native object; `kDetail`...), which neither serializer
 * writes: they arrived as `{}` (Node's IPC copies own string-keyed fields only; V8's serializer,
 * the primary's store copy, refused a BlockList). Refused here: a class instance none of whose
 * own enumerable string-keyed fields holds anything (there are none, as in a BlockList, or they
 * hold undefined or null, as a Hash's `_options` and a Cipher's `_decoder`), and which has
 * symbol-keyed properties. An instance that holds nothing at all (`new (class A {})()`) is
 * carried as `{}`, as before.
 *
 * Not where payload-check.ts counts an object's keys: a Hash has one (`_options`), so the count
 * does not tell; counting the empty ones in that loop would cost every plain object. Here only a
 * class instance pays: the loop below stops at its first field that holds a value (no
 * allocation), and only one whose fields hold nothing lists its symbols.
 */
function refuseSymbolState(walk: Walk, value: object): void {
  // An own enumerable field that holds a value: carried as any class instance (its own fields).
  // (An own getter is read again by the walk: one on an instance, enumerable, is rare, and one that throws is named as in the walk.)
  for (const key in value) {
    if (Object.hasOwn(value, key) && (value as Record<string, unknown>)[key] != null) return;
  }
  if (Object.getOwnPropertySymbols(value).length === 0) return;
  if (isWrittenByToJson(walk, value)) return;
  walk.fail(
    `${className(value)} holds its data under symbol keys (or in the native object they lead to), which ${walk.json ? 'JSON' : "Node's IPC"} does not write, so it would arrive as {}; ` +
      'send what it holds as plain data instead (an address as { address, port }, a digest as a string, a class of your own with string-keyed fields...)',
  );
}

/** With JSON, what is written is what `toJSON()` returns, the type's own choice: a URL's href, a SocketAddress's address and port, an X509Certificate's PEM. */
function isWrittenByToJson(walk: Walk, value: object): boolean {
  return walk.json && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/** `a BlockList`, `an instance of an anonymous class`: named by its constructor. */
function className(value: object): string {
  const constructor = (Object.getPrototypeOf(value) as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && typeof constructor.name === 'string' && constructor.name !== '' ? article(constructor.name) : 'an instance of an anonymous class';
}

function article(name: string): string {
  return `${/^[AEIOX]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** `a Blob`, `a MessagePort (an EventTarget)`: the `Symbol.toStringTag` a platform type declares on `prototype`'s chain, or null. */
function platformTag(prototype: object): string | null {
  for (let holder: object | null = prototype; holder !== null; holder = Object.getPrototypeOf(holder) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(holder, Symbol.toStringTag);
    if (descriptor === undefined) continue;
    // A getter (how a class declares it), or a writable value: one's own class.
    if (!('value' in descriptor) || descriptor.writable === true || typeof descriptor.value !== 'string') return null;
    if (kCarriedTags.has(descriptor.value)) return null;
    // Inherited: named by its own class too (a MessagePort's tag is 'EventTarget').
    const own = holder === prototype ? undefined : Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value as unknown;
    const name = typeof own === 'function' && own.name !== '' && own.name !== descriptor.value ? `${own.name} (${article(descriptor.value)})` : descriptor.value;
    return article(name);
  }
  return null;
}
