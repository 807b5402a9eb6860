/**
 * Tagged round-robin over ready workers. Pure: members are opaque keys.
 *
 * Each (tag, role) pair keeps its own rotation, so picks under one tag never disturb another.
 * A pick returns the member least recently picked under that tag: members never picked come
 * first, then the rotation order. Every operation is O(1) per rotation, using the insertion
 * order of `Set` as the queue.
 */

class Rotation<T> {
  /** Members not yet picked under this rotation, oldest first. */
  readonly fresh = new Set<T>();
  /** Picked members, least recently picked first. */
  readonly used = new Set<T>();

  constructor(readonly role: string | undefined) {}

  pick(): T | undefined {
    const source = this.fresh.size > 0 ? this.fresh : this.used;
    const next = source.values().next();
    if (next.done) return undefined;
    source.delete(next.value);
    this.used.add(next.value);
    return next.value;
  }

  remove(member: T): void {
    this.fresh.delete(member);
    this.used.delete(member);
  }
}

/** Rotations kept at once; beyond it the oldest is forgotten (its next pick starts afresh). */
export const kMaxRotations = 1024;

export class RoundRobin<T> {
  /** Ready members and the roles (`fork({ roles })`) each has, in the order they became ready. */
  readonly #members = new Map<T, ReadonlySet<string>>();
  readonly #rotations = new Map<string, Rotation<T>>();

  get size(): number {
    return this.#members.size;
  }

  has(member: T): boolean {
    return this.#members.has(member);
  }

  /** A member becomes eligible (its worker is ready). */
  add(member: T, roles: readonly string[] = []): void {
    if (this.#members.has(member)) return;
    const roleSet = new Set(roles);
    this.#members.set(member, roleSet);
    for (const rotation of this.#rotations.values()) {
      if (rotation.role === undefined || roleSet.has(rotation.role)) rotation.fresh.add(member);
    }
  }

  /** A member stops being eligible (stopping, exited). */
  remove(member: T): void {
    if (!this.#members.delete(member)) return;
    for (const rotation of this.#rotations.values()) rotation.remove(member);
  }

  /** The next member for `tag`, limited to members with `role` when given; undefined if none. */
  pick(tag: string, role?: string): T | undefined {
    const key = role === undefined ? tag : `${tag}\u0000${role}`;
    let rotation = this.#rotations.get(key);
    if (!rotation) {
      rotation = new Rotation<T>(role);
      for (const [member, roles] of this.#members) {
        if (role === undefined || roles.has(role)) rotation.fresh.add(member);
      }
      this.#rotations.set(key, rotation);
      if (this.#rotations.size > kMaxRotations) this.#rotations.delete(this.#rotations.keys().next().value!);
    }
    return rotation.pick();
  }
}
