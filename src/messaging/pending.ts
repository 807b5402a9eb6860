/**
 * Requests waiting for a reply from one peer, and their timeouts.
 *
 * A request is added when it is called, even when it must first wait for admission (see
 * admission.ts): its timeout counts from the call, and one that expires or is aborted while
 * waiting settles then and is never sent. Such a request is `isWaiting` until `issue()`.
 *
 * Timeouts go through p-timeout, once per *timeout group*: requests with the same timeout added
 * within a short window share one timer. Under load that is one timer per window instead of
 * one per request, which matters because arming p-timeout costs about as much as an IPC round
 * trip (it builds a TimeoutError). The timer is armed for the timeout plus the window, so no
 * request ever times out early; it may time out up to the window late (at most 10 ms, and at
 * most 1% of its timeout).
 *
 * A deadline is decided after the event loop has read what is waiting: when the timer fires,
 * the requests are rejected only at the following check phase (`setImmediate`), after one poll
 * of the sockets. A process busy when the deadline passed (parsing other peers' large replies)
 * thus still counts a reply that reached its socket in time. A large reply is announced by a
 * reply-ahead record (envelope.ts): a request whose reply is on its way gets more time, once.
 */
import { WorkerExitedError } from '../errors.js';
import { isError } from '../readable-error.js';
import { armTimeout, groupWindowMs, TimeoutGroup } from './timeout-group.js';
import { onAbort, reasonOf } from './on-abort.js';

let lastRequestId = 0;

/** True when `id` was issued by this process (a reply to any other id is forged). */
export function isIssuedRequestId(id: number): boolean {
  return id <= lastRequestId;
}

/**
 * A request whose reply is on its way at its deadline (announced by a reply-ahead record) gets
 * its own timeout again, and at least this, to finish arriving.
 */
export const kMinArrivalGraceMs = 2_000;

/**
 * A queued request whose turn comes with less than this share of its timeout left is not sent
 * (tester t51): it could hardly be answered in time, and one sent then runs in its peer after its
 * caller gave up, so a caller that retries on the timeout runs it twice. Said as never sent.
 */
const kMinShareLeftToSend = 1 / 20;

/** True when a request with `leftMs` of its `timeoutMs` left is too late to send (`kMinShareLeftToSend`). */
export function isTooLateToSend(leftMs: number, timeoutMs: number): boolean {
  return leftMs <= 0 || leftMs < timeoutMs * kMinShareLeftToSend;
}

/** Process-unique, monotonic request ids: a stale reply can never match a newer request. */
export function nextRequestId(): number {
  lastRequestId = lastRequestId === Number.MAX_SAFE_INTEGER ? 1 : lastRequestId + 1;
  return lastRequestId;
}

/**
 * Requests answered that are remembered per peer, so a second reply to one is told (H382): a
 * second reply comes right after the first (two writers answering one request), well within the
 * last 64 answers.
 */
export const kAnsweredKept = 64;

/** One request awaiting its reply. */
export class PendingRequest {
  constructor(
    readonly id: number,
    readonly type: string,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
    public group: TimeoutGroup | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Set while it waits on its signal: unsubscribes it (on-abort.ts), as the request settles. */
  offAbort: (() => void) | undefined = undefined;
  /** Set when a reply-ahead record announced the reply: it is on its way. */
  isArriving = false;
  /** Armed at the deadline of an arriving request, for its grace; cleared when it settles. */
  graceTimer: NodeJS.Timeout | undefined = undefined;
  /** True while it waits for admission: registered, not yet written. */
  isWaiting = false;
  /** Set for one that waited for admission: when its timeout ends (ms since the epoch), checked before it is written. */
  deadlineAt: number | undefined = undefined;
  /** For one that waited for admission: the requests awaiting replies ahead of it as it was queued (its `queuedBehind` when those timed out first, retest t51). */
  aheadWhenQueued = 0;
  /** For one that waited for admission, set as it is written: how long (ms) of its timeout it waited. */
  queuedMs: number | undefined = undefined;
  /**
   * True once its caller was rejected (timeout, abort) while its slot stays taken until the peer
   * answers (`keepsSlot`): the answer then settles nothing, and only frees the slot.
   */
  isAbandoned = false;
  /** Left out of `ownInFlight` while written (a relayed `sendTo()`): decided once, at registration. */
  isSeparate = false;
  /**
   * The channel's frame its record waits in, until the flush hands that to Node (channel.ts
   * `FrameStatus`); undefined once issued straight to Node. One that settles before its frame
   * goes out is left out of it, never written (hostile t68 F2, retest t68 #3).
   */
  frame: { readonly isSent: boolean } | undefined = undefined;

  /** True while its record waits in a frame not yet handed to Node: it was not sent. */
  get isUnsent(): boolean {
    return this.frame !== undefined && !this.frame.isSent;
  }
}

export class PendingRequests {
  readonly #entries = new Map<number, PendingRequest>();
  /** The group taking members for each timeout, until its window ends. */
  readonly #openGroups = new Map<number, TimeoutGroup>();
  /** The most recently created group: the fast path of `#groupFor`. */
  #lastGroup: TimeoutGroup | undefined;
  /** Entries that are `isWaiting`. */
  #waiting = 0;
  /** Entries written (not `isWaiting`) whose type `isSeparate` accepts. */
  #separateInFlight = 0;
  /** Requests whose caller stopped waiting: rejected at their timeout or by their abort signal. */
  #givenUp = 0;
  /** Of `#givenUp`: aborted with a `WorkerExitedError`, their requester gone. */
  #requesterExited = 0;
  /** The ids and types of the last `kAnsweredKept` requests answered, a ring (`answeredType`). */
  readonly #answeredIds: number[] = new Array<number>(kAnsweredKept).fill(-1);
  readonly #answeredTypes: string[] = new Array<string>(kAnsweredKept).fill('');
  #answeredAt = 0;

  constructor(
    /** Builds the error for a request whose timeout expired. */
    private readonly timeoutError: (request: PendingRequest, timeoutMs: number) => Error,
    /** Called after any request settles (reply, error, timeout, abort), to admit waiting sends. */
    private readonly onSettled: () => void = () => {},
    /** Types left out of `ownInFlight` (a primary's relayed `sendTo()`, H471). */
    private readonly isSeparate: (type: string) => boolean = () => false,
    /**
     * Types whose slot a timeout or abort does not free: it stays taken until the peer answers
     * (a worker's `$relay`, which the primary always answers, and holds until then, H472).
     */
    private readonly keepsSlot: (type: string) => boolean = () => false,
  ) {}

  /** `inFlight` without those counted apart: the requests `maxPending` bounds. */
  get ownInFlight(): number {
    return this.inFlight - this.#separateInFlight;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Requests written and awaiting their replies (not those still waiting for admission). */
  get inFlight(): number {
    return this.#entries.size - this.#waiting;
  }

  /** `inFlight`, of the types `isCounted` accepts. */
  inFlightOf(isCounted: (type: string) => boolean): number {
    let count = 0;
    for (const request of this.#entries.values()) if (!request.isWaiting && isCounted(request.type)) count++;
    return count;
  }

  /**
   * Requests given up so far: timed out or aborted before their reply. The peer may still be
   * working on them; what it says of that work answers no caller (H241).
   */
  get givenUp(): number {
    return this.#givenUp;
  }

  /**
   * Of `givenUp`, those aborted because the one who asked exited (a relayed `sendTo()` whose
   * sender was killed or stopped first): no timeout, no abort of its code (hostile t29 L1, H274).
   */
  get requesterExited(): number {
    return this.#requesterExited;
  }

  /**
   * Registers request `id` and returns the promise its reply settles. The timeout starts now;
   * with `isWaiting`, the request is not written yet (call `issue()` when it is).
   */
  add(id: number, type: string, timeoutMs: number, signal: AbortSignal | undefined, isWaiting = false): Promise<unknown> {
    return new Promise((resolve, reject) => this.register(id, type, timeoutMs, signal, resolve, reject, isWaiting));
  }

  /**
   * `add()` without a promise: the outcome goes to `resolve` or `reject`, called once, at the
   * moment the request settles. For a caller that gathers many outcomes into one result (a
   * broadcast): a promise per request, and the jobs chained on each, cost more than the request.
   */
  register(id: number, type: string, timeoutMs: number, signal: AbortSignal | undefined, resolve: (value: unknown) => void, reject: (error: Error) => void, isWaiting = false): void {
    const group = Number.isFinite(timeoutMs) ? this.#groupFor(timeoutMs) : undefined;
    const request = new PendingRequest(id, type, resolve, reject, group, signal);
    request.isSeparate = this.isSeparate(type);
    if (signal) {
      // First: user code may have patched the signal's addEventListener to throw. The request
      // is then refused with it (the caller's catch), and nothing is left registered that
      // would settle it a second time at its deadline.
      request.offAbort = onAbort(signal, () => this.#giveUp(id, abortReason(signal)));
    }
    if (isWaiting) {
      request.isWaiting = true;
      request.deadlineAt = Date.now() + timeoutMs;
      this.#waiting++;
    } else if (request.isSeparate) this.#separateInFlight++;
    this.#entries.set(id, request);
    if (group) {
      if (group.firstId === 0) group.firstId = id;
      group.lastId = id;
      group.unsettled++;
    }
  }

  get(id: number): PendingRequest | undefined {
    return this.#entries.get(id);
  }

  /** True while request `id` is pending (waiting, or written and not settled). */
  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /** Notes the frame request `id`'s record waits in (see `PendingRequest.frame`). */
  noteFrame(id: number, frame: { readonly isSent: boolean }): void {
    const request = this.#entries.get(id);
    if (request !== undefined) request.frame = frame;
  }

  /** True while request `id` waits for admission (false once issued or settled). */
  isWaiting(id: number): boolean {
    return this.#entries.get(id)?.isWaiting === true;
  }

  /**
   * Marks waiting request `id` as written. Returns false when it settled meanwhile, or when its
   * time is (nearly) up (`isTooLateToSend`: it is given up now, as never sent): do not write it.
   */
  issue(id: number): boolean {
    const request = this.#entries.get(id);
    if (!request?.isWaiting) return false;
    const timeoutMs = request.group?.timeoutMs;
    if (timeoutMs !== undefined && request.deadlineAt !== undefined && isTooLateToSend(request.deadlineAt - Date.now(), timeoutMs)) {
      this.#giveUp(id, this.timeoutError(request, timeoutMs));
      return false;
    }
    request.isWaiting = false;
    if (timeoutMs !== undefined && request.deadlineAt !== undefined) request.queuedMs = Math.max(0, timeoutMs - (request.deadlineAt - Date.now()));
    this.#waiting--;
    if (request.isSeparate) this.#separateInFlight++;
    return true;
  }

  /**
   * Resolves request `id` with the peer's reply. Returns false when it is unknown (late,
   * duplicate or foreign reply), or not sent yet: a reply to it can only be forged.
   */
  resolve(id: number, value: unknown): boolean {
    const request = this.#take(id, true);
    if (!request) return false;
    this.#noteAnswered(request);
    if (!request.isAbandoned) request.resolve(value);
    return true;
  }

  /**
   * The type of request `id` when it is among the last `kAnsweredKept` this peer answered (a
   * reply or an error reply), else undefined. A second reply to one of them is a protocol error
   * (H382): a peer answers each request once, and a worker's code that answered clusterkit's
   * `$ping` before clusterkit did, with figures of its own, left clusterkit's answer second.
   */
  answeredType(id: number): string | undefined {
    const index = this.#answeredIds.indexOf(id);
    return index === -1 ? undefined : this.#answeredTypes[index];
  }

  #noteAnswered(request: PendingRequest): void {
    // Two stores per answer: the ring is searched only for a reply that matched no request.
    this.#answeredIds[this.#answeredAt] = request.id;
    this.#answeredTypes[this.#answeredAt] = request.type;
    this.#answeredAt = (this.#answeredAt + 1) % kAnsweredKept;
  }

  /**
   * Notes that the reply to `id` is on its way (a reply-ahead record). Returns false when `id`
   * is unknown, or not sent yet (an announcement for it can only be forged).
   */
  markArriving(id: number): boolean {
    const request = this.#entries.get(id);
    if (!request || request.isWaiting) return false;
    request.isArriving = true;
    return true;
  }

  /** Rejects request `id`; `isAnswer`: with the peer's error reply (`answeredType`). Returns false when it is unknown. */
  reject(id: number, error: Error, isAnswer = false): boolean {
    const request = this.#take(id);
    if (!request) return false;
    if (isAnswer) this.#noteAnswered(request);
    if (!request.isAbandoned) request.reject(error);
    return true;
  }

  /** Rejects every pending request (the peer died); returns how many there were. */
  rejectAll(errorFor: (request: PendingRequest) => Error): number {
    const requests = [...this.#entries.values()];
    for (const request of requests) this.reject(request.id, errorFor(request));
    return requests.length;
  }

  #take(id: number, mustBeSent = false): PendingRequest | undefined {
    const request = this.#entries.get(id);
    if (!request || (mustBeSent && request.isWaiting)) return undefined;
    this.#entries.delete(id);
    if (request.isWaiting) this.#waiting--;
    else if (request.isSeparate) this.#separateInFlight--;
    request.offAbort?.();
    if (request.graceTimer) clearTimeout(request.graceTimer);
    const group = request.group;
    if (group && --group.unsettled === 0 && !group.isOpen) group.finish();
    this.onSettled();
    return request;
  }

  #groupFor(timeoutMs: number): TimeoutGroup {
    const now = Date.now();
    // Nearly every request uses the default timeout: check the last group before the map.
    const last = this.#lastGroup;
    if (last && last.timeoutMs === timeoutMs && last.isOpen && now <= last.closesAt) return last;
    const current = this.#openGroups.get(timeoutMs);
    if (current && now <= current.closesAt) {
      this.#lastGroup = current;
      return current;
    }
    current?.close();
    const group = new TimeoutGroup(timeoutMs, groupWindowMs(timeoutMs), now);
    this.#openGroups.set(timeoutMs, group);
    this.#lastGroup = group;
    armTimeout(group, () => this.#expire(group));
    // Closing at the window's end lets the group's timer be cleared once its members settle.
    if (group.windowMs === 0) process.nextTick(() => this.#closeGroup(group));
    else setTimeout(() => this.#closeGroup(group), group.windowMs + 1).unref();
    return group;
  }

  #closeGroup(group: TimeoutGroup): void {
    if (this.#openGroups.get(group.timeoutMs) === group) this.#openGroups.delete(group.timeoutMs);
    if (group.isOpen) group.close();
  }

  #expire(group: TimeoutGroup): void {
    this.#closeGroup(group);
    // After the next poll: replies already in the socket are read first, and count.
    setImmediate(() => {
      const expired = this.#membersOf(group);
      // Each error made before any settles: a queued one is said behind the requests that were
      // ahead of it at the deadline, not behind none once they timed out first (tester t51: `queuedBehind=0`).
      const errors = expired.map((request) => (request.isArriving ? undefined : this.timeoutError(request, group.timeoutMs)));
      expired.forEach((request, index) => {
        const error = errors[index];
        if (error === undefined) this.#allowArrival(request, group.timeoutMs);
        else this.#giveUp(request.id, error);
      });
    });
  }

  /** `group`'s members still pending, in the order they were added. */
  #membersOf(group: TimeoutGroup): PendingRequest[] {
    const span = group.lastId - group.firstId + 1;
    // Through the ids between its first and last member: those added during its window (at most
    // 10 ms), fewer than all pending ones when many are. Ids wrap after 2^53: then every one.
    if (span > 0 && span < this.#entries.size) {
      const members: PendingRequest[] = [];
      for (let id = group.firstId; id <= group.lastId; id++) {
        const request = this.#entries.get(id);
        if (request?.group === group) members.push(request);
      }
      return members;
    }
    return [...this.#entries.values()].filter((request) => request.group === group);
  }

  /** Rejects `request`'s caller with `error`; its entry, and the slot it takes, stay until the peer answers. */
  #abandon(request: PendingRequest, error: Error): void {
    request.isAbandoned = true;
    request.offAbort?.();
    request.offAbort = undefined;
    if (request.graceTimer) clearTimeout(request.graceTimer);
    request.graceTimer = undefined;
    const group = request.group;
    request.group = undefined;
    if (group && --group.unsettled === 0 && !group.isOpen) group.finish();
    request.reject(error);
  }

  /** A reply announced before the deadline may finish arriving: `max(timeout, 2 s)` more, once. */
  #allowArrival(request: PendingRequest, timeoutMs: number): void {
    request.graceTimer = setTimeout(() => this.#giveUp(request.id, this.timeoutError(request, timeoutMs)), Math.max(timeoutMs, kMinArrivalGraceMs));
  }

  #giveUp(id: number, error: Error): void {
    const request = this.#entries.get(id);
    if (!request || request.isAbandoned) return;
    // Only with a deadline (a timeout group): the peer answers by it. An aborted request with no
    // deadline would hold its slot for as long as the target's handler never settles (code review of H472).
    // One still in its frame is withdrawn from it instead (never written): no answer will come to free its slot.
    if (!request.isWaiting && !request.isUnsent && request.group !== undefined && this.keepsSlot(request.type)) this.#abandon(request, error);
    else if (!this.reject(id, error)) return;
    this.#givenUp++;
    if (error instanceof WorkerExitedError) this.#requesterExited++;
  }
}

/** The error an aborted request rejects with: the signal's reason, or an `AbortError`. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = reasonOf(signal);
  // isError(): `instanceof` throws on a revoked Proxy, and this runs in an abort listener.
  return isError(reason) ? reason : new DOMException('The request was aborted.', 'AbortError');
}
