/**
 * Rendezvous (highest random weight) hashing for sticky sessions. Pure.
 *
 * Each client key scores every candidate; the highest score wins. Removing a candidate moves
 * only its own clients (to their second choice), and nobody else's. Keys are hashed with a
 * secret (HMAC), so a client cannot pick addresses that all land on one worker.
 */
import { loadCrypto } from '../../builtins.js';

export class RendezvousHash {
  readonly #secret: Buffer;

  constructor(secret: Buffer = loadCrypto().randomBytes(32)) {
    this.#secret = secret;
  }

  /** The candidate with the highest score for `key`, or undefined when there is none. */
  pick<T>(key: string, candidates: Iterable<T>, idOf: (candidate: T) => number): T | undefined {
    const base = loadCrypto().createHmac('sha256', this.#secret).update(key).digest().readUInt32LE(0);
    let best: T | undefined;
    let bestScore = -1;
    for (const candidate of candidates) {
      const score = mix32(base ^ mix32(idOf(candidate) + 0x9e3779b9));
      if (score > bestScore) {
        bestScore = score;
        best = candidate;
      }
    }
    return best;
  }
}

/** MurmurHash3's finalizer: a well-spread unsigned 32-bit value. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The client address as a key: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) reads as plain IPv4. */
export function clientKey(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
