/**
 * Tagged round-robin over ready workers. Pure: members are opaque keys.
 *
 * Each (tag, role) pair keeps its own rotation, so picks under one tag never disturb another:
 * any tag and role strings make distinct pairs (H728).
 * A pick returns the member least recently picked under that tag: members never picked come
 * first, then the rotation order. A new rotation starts at the member least recently started at
 * (per role), so tags that come and go spread over the members too (H742). Every operation is
 * O(1) per rotation, using the insertion order of `Set` as the queue; a pick that passes members
 * over (silent workers) costs one test per member passed over.
 */

class Rotation<T> {
  /** Members not yet picked under this rotation, oldest first. */
  readonly fresh = new Set<T>();
  /** Picked members, least recently picked first. */
  readonly used = new Set<T>();
  /** Picked since the forgetting last passed it (RoundRobin#forgetOne). */
  isUsed = false;

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

/**
 * Rotations kept at once; beyond it one not picked lately is forgotten (its next pick starts
 * afresh, where a new rotation starts).
 */
export const kMaxRotations = 1024;

/**
 * The longest tag, in UTF-16 code units: with kMaxRotations, what the kept tags can hold
 * (at most 2 KiB each, 2 MiB in all). A tag names a rotation (a queue, a tenant, a job kind);
 * it was unbounded, and 1024 distinct 1 MiB tags kept about 1 GB of heap (hostile t84 #3, H742).
 */
export const kMaxTagLength = 1024;

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
  /**
   * Every rotation, in the order the forgetting passes them (RoundRobin#forgetOne): one picked
   * since it was last passed goes to the back instead of being forgotten. Forgetting the oldest
   * created instead dropped a tag in use as soon as 1024 others had come after it, even one
   * picked a moment before (hostile t84 #3, H742).
   */
  readonly #byUse = new Set<Rotation<T>>();
  /**
   * Per role (undefined: no role), where a new rotation starts: the member least recently started
   * at comes first. A new rotation started at the first ready member, so with more tags than
   * kMaxRotations (or a tag per request) every pick went to the same worker without a word
   * (hostile t84 #3, H742). Kept only while a member has the role, so as many as the roles of
   * the members, plus one.
   */
  readonly #starts = new Map<string | undefined, Rotation<T>>();

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
    for (const rotation of this.#byUse) {
      if (rotation.role === undefined || roleSet.has(rotation.role)) rotation.fresh.add(member);
    }
    for (const starts of this.#starts.values()) {
      if (starts.role === undefined || roleSet.has(starts.role)) starts.fresh.add(member);
    }
  }

  /** A member stops being eligible (stopping, exited). */
  remove(member: T): void {
    if (!this.#members.delete(member)) return;
    for (const rotation of this.#byUse) rotation.remove(member);
    for (const starts of this.#starts.values()) {
      starts.remove(member);
      if (starts.fresh.size === 0 && starts.used.size === 0) this.#starts.delete(starts.role);
    }
  }

  /**
   * The next member for `tag`, limited to members with `role` when given; undefined if none.
   * Members `isPassedOver` says no to (silent workers) are skipped, keeping their place, while
   * another member is eligible; when all are, the rotation picks among them as usual.
   */
  pick(tag: string, role?: string, isPassedOver?: (member: T) => boolean): T | undefined {
    const rotation = this.#rotations.get(role)?.get(tag);
    if (rotation === undefined) return this.#startRotation(tag, role, isPassedOver);
    rotation.isUsed = true;
    return rotation.pick(isPassedOver);
  }

  /** How many rotations are kept (tests). */
  get rotationCount(): number {
    return this.#byUse.size;
  }

  /**
   * The first pick of a new rotation for `tag`: the eligible member least recently started at,
   * the others after it in that order, so new tags (a tag per request, or more tags than are
   * kept) spread over the members as one rotation would. None eligible: nothing is kept.
   */
  #startRotation(tag: string, role: string | undefined, isPassedOver?: (member: T) => boolean): T | undefined {
    let starts = this.#starts.get(role);
    if (starts === undefined) {
      starts = new Rotation<T>('', role);
      for (const [member, roles] of this.#members) {
        if (role === undefined || roles.has(role)) starts.fresh.add(member);
      }
      // A role no member has keeps nothing: roles asked for are not bounded, the members' are.
      if (starts.fresh.size === 0) return undefined;
      this.#starts.set(role, starts);
    }
    const start = starts.pick(isPassedOver)!;
    const rotation = new Rotation<T>(tag, role);
    rotation.fresh.add(start);
    for (const member of starts.fresh) rotation.fresh.add(member);
    for (const member of starts.used) rotation.fresh.add(member);
    // Before it joins the line: the rotation just made is not the one forgotten.
    if (this.#byUse.size >= kMaxRotations) this.#forgetOne();
    let byTag = this.#rotations.get(role);
    if (byTag === undefined) this.#rotations.set(role, (byTag = new Map()));
    byTag.set(tag, rotation);
    this.#byUse.add(rotation);
    return rotation.pick(isPassedOver);
  }

  /**
   * Forgets the least recently used rotation, nearly: the first in line not picked since the
   * last pass (second chance, as page caches do). Exact order, the rotation re-inserted at each
   * pick, made every pick about 40 ns slower (about 1.6x); a flag set at each pick costs nothing,
   * and each rotation passed over spends the flag one pick set, so this is O(1) amortized.
   */
  #forgetOne(): void {
    for (;;) {
      const oldest = this.#byUse.values().next().value!;
      if (!oldest.isUsed) return this.#forget(oldest);
      oldest.isUsed = false;
      this.#byUse.delete(oldest);
      this.#byUse.add(oldest);
    }
  }

  #forget(rotation: Rotation<T>): void {
    this.#byUse.delete(rotation);
    const byTag = this.#rotations.get(rotation.role)!;
    byTag.delete(rotation.tag);
    // A role's map goes with its last rotation: roles asked for once do not pile up either.
    if (byTag.size === 0) this.#rotations.delete(rotation.role);
  }
}
