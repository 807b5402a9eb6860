/**
 * Tagged round-robin over ready workers. Pure: members are opaque keys.
 *
 * Each (tag, role) pair keeps its own rotation, so picks under one tag never disturb another.
 * A pick returns the member least recently picked under that tag: members never picked come
 * first, then the rotation order. Every operation is O(1) per rotation, using the insertion
 * order of `Set` as the queue; a pick that passes members over (silent workers) costs one test
 * per member passed over.
 */

class Rotation<T> {
  /** Members not yet picked under this rotation, oldest first. */
  readonly fresh = new Set<T>();
  /** Picked members, least recently picked first. */
  readonly used = new Set<T>();

  constructor(readonly role: string | undefined) {}

  /**
   * The least recently picked member that is not `isPassedOver` (members never picked first);
   * when every member is passed over, the least recently picked of them all.
   */
  pick(isPassedOver?: (member: T) => boolean): T | undefined {
    const member = (isPassedOver && (firstNot(this.fresh, isPassedOver) ?? firstNot(this.used, isPassedOver))) ?? first(this.fresh) ?? first(this.used);
    if (member === undefined) return undefined;
    this.fresh.delete(member);
    this.used.delete(member);
    this.used.add(member);
    return member;
  }

  remove(member: T): void {
    this.fresh.delete(member);
    this.used.delete(member);
  }
}

function first<T>(members: Set<T>): T | undefined {
  return members.values().next().value;
}

/** The first of `members` not passed over; passed-over members keep their place in the queue. */
function firstNot<T>(members: Set<T>, isPassedOver: (member: T) => boolean): T | undefined {
  for (const member of members) if (!isPassedOver(member)) return member;
  return undefined;
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

  /**
   * The next member for `tag`, limited to members with `role` when given; undefined if none.
   * Members `isPassedOver` says no to (silent workers) are skipped, keeping their place, while
   * another member is eligible; when all are, the rotation picks among them as usual.
   */
  pick(tag: string, role?: string, isPassedOver?: (member: T) => boolean): T | undefined {
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
    return rotation.pick(isPassedOver);
  }
}
