/**
 * Tagged round-robin over ready workers. Pure: members are opaque keys.
 *
 * Each (tag, role) pair keeps its own rotation, so picks under one tag never disturb another:
 * any tag and role strings make distinct pairs (H728).
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

  constructor(
    readonly tag: string,
    readonly role: string | undefined,
  ) {}

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
  /**
   * Rotations by role (undefined: no role), then by tag: a tag is any string, often from request
   * data, so no joined key can be told apart from another. Joined as `${tag}\u0000${role}`, a
   * tag `jobs\u0000io` with no role was the rotation of tag `jobs` with role `io`, whose picks
   * then went to workers without the role (hostile t83 #6, H728).
   */
  readonly #rotations = new Map<string | undefined, Map<string, Rotation<T>>>();
  /** Every rotation, oldest first: the one forgotten past kMaxRotations. */
  readonly #byAge = new Set<Rotation<T>>();

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
    for (const rotation of this.#byAge) {
      if (rotation.role === undefined || roleSet.has(rotation.role)) rotation.fresh.add(member);
    }
  }

  /** A member stops being eligible (stopping, exited). */
  remove(member: T): void {
    if (!this.#members.delete(member)) return;
    for (const rotation of this.#byAge) rotation.remove(member);
  }

  /**
   * The next member for `tag`, limited to members with `role` when given; undefined if none.
   * Members `isPassedOver` says no to (silent workers) are skipped, keeping their place, while
   * another member is eligible; when all are, the rotation picks among them as usual.
   */
  pick(tag: string, role?: string, isPassedOver?: (member: T) => boolean): T | undefined {
    let byTag = this.#rotations.get(role);
    let rotation = byTag?.get(tag);
    if (!rotation) {
      rotation = new Rotation<T>(tag, role);
      for (const [member, roles] of this.#members) {
        if (role === undefined || roles.has(role)) rotation.fresh.add(member);
      }
      if (byTag === undefined) this.#rotations.set(role, (byTag = new Map()));
      byTag.set(tag, rotation);
      this.#byAge.add(rotation);
      if (this.#byAge.size > kMaxRotations) this.#forget(this.#byAge.values().next().value!);
    }
    return rotation.pick(isPassedOver);
  }

  /** How many rotations are kept (tests). */
  get rotationCount(): number {
    return this.#byAge.size;
  }

  #forget(rotation: Rotation<T>): void {
    this.#byAge.delete(rotation);
    const byTag = this.#rotations.get(rotation.role)!;
    byTag.delete(rotation.tag);
    // A role's map goes with its last rotation: roles asked for once do not pile up either.
    if (byTag.size === 0) this.#rotations.delete(rotation.role);
  }
}
