/**
 * Requests waiting for a reply from one peer, and their timeouts.
 *
 * Timeouts go through p-timeout, once per *timeout group*: the requests added in the same tick
 * with the same timeout share one deadline and one timer. A pipelined burst of 64 requests costs
 * one timer instead of 64, which matters because arming p-timeout costs several microseconds
 * (it captures a stack for its own TimeoutError), about as much as an IPC round trip.
 */
import pTimeout from 'p-timeout';

let lastRequestId = 0;

/** Process-unique, monotonic request ids: a stale reply can never match a newer request. */
export function nextRequestId(): number {
  lastRequestId = lastRequestId === Number.MAX_SAFE_INTEGER ? 1 : lastRequestId + 1;
  return lastRequestId;
}

class TimeoutGroup {
  readonly members: PendingRequest[] = [];
  /** Members not yet settled; the group's timer is cleared when this reaches 0 after closing. */
  unsettled = 0;
  /** Open until the end of the tick it was created in; only open groups take members. */
  isOpen = true;
  finish!: () => void;
  readonly allSettled = new Promise<void>((resolve) => {
    this.finish = resolve;
  });

  constructor(readonly timeoutMs: number) {}
}

/** One request awaiting its reply. */
export class PendingRequest {
  settled = false;

  constructor(
    readonly id: number,
    readonly type: string,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
    readonly group: TimeoutGroup | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Set while an abort listener is attached; removed when the request settles. */
  onAbort: (() => void) | undefined = undefined;
}

export class PendingRequests {
  readonly #entries = new Map<number, PendingRequest>();
  /** Groups accepting members this tick, by timeout; emptied by the end-of-tick close. */
  readonly #openGroups = new Map<number, TimeoutGroup>();
  #closeScheduled = false;

  constructor(
    /** Builds the error for a request whose timeout expired. */
    private readonly timeoutError: (request: PendingRequest, timeoutMs: number) => Error,
    /** Called after any request settles (reply, error, timeout, abort), to admit waiting sends. */
    private readonly onSettled: () => void = () => {},
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Registers request `id` and returns the promise its reply settles. */
  add(id: number, type: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const group = Number.isFinite(timeoutMs) ? this.#groupFor(timeoutMs) : undefined;
      const request = new PendingRequest(id, type, resolve, reject, group, signal);
      this.#entries.set(id, request);
      if (group) {
        group.members.push(request);
        group.unsettled++;
      }
      if (signal) {
        request.onAbort = () => this.reject(id, abortReason(signal));
        signal.addEventListener('abort', request.onAbort, { once: true });
      }
    });
  }

  get(id: number): PendingRequest | undefined {
    return this.#entries.get(id);
  }

  /** Resolves request `id`. Returns false when it is unknown (late, duplicate or foreign reply). */
  resolve(id: number, value: unknown): boolean {
    const request = this.#take(id);
    if (!request) return false;
    request.resolve(value);
    return true;
  }

  /** Rejects request `id`. Returns false when it is unknown. */
  reject(id: number, error: Error): boolean {
    const request = this.#take(id);
    if (!request) return false;
    request.reject(error);
    return true;
  }

  /** Rejects every pending request (the peer died); returns how many there were. */
  rejectAll(errorFor: (request: PendingRequest) => Error): number {
    const requests = [...this.#entries.values()];
    for (const request of requests) this.reject(request.id, errorFor(request));
    return requests.length;
  }

  #take(id: number): PendingRequest | undefined {
    const request = this.#entries.get(id);
    if (!request) return undefined;
    this.#entries.delete(id);
    request.settled = true;
    if (request.onAbort) request.signal?.removeEventListener('abort', request.onAbort);
    const group = request.group;
    if (group && --group.unsettled === 0 && !group.isOpen) group.finish();
    this.onSettled();
    return request;
  }

  #groupFor(timeoutMs: number): TimeoutGroup {
    let group = this.#openGroups.get(timeoutMs);
    if (group) return group;
    group = new TimeoutGroup(timeoutMs);
    this.#openGroups.set(timeoutMs, group);
    armTimeout(group, () => this.#expire(group));
    if (!this.#closeScheduled) {
      this.#closeScheduled = true;
      process.nextTick(() => this.#closeGroups());
    }
    return group;
  }

  #closeGroups(): void {
    this.#closeScheduled = false;
    for (const group of this.#openGroups.values()) {
      group.isOpen = false;
      if (group.unsettled === 0) group.finish();
    }
    this.#openGroups.clear();
  }

  #expire(group: TimeoutGroup): void {
    group.isOpen = false;
    this.#openGroups.delete(group.timeoutMs);
    for (const request of group.members) {
      if (!request.settled) this.reject(request.id, this.timeoutError(request, group.timeoutMs));
    }
  }
}

function armTimeout(group: TimeoutGroup, onTimeout: () => void): void {
  // p-timeout builds a TimeoutError eagerly for its default rejection. We never use it (the
  // fallback rejects each member with its own MessageTimeoutError), so skip its stack capture.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    void pTimeout(group.allSettled, { milliseconds: group.timeoutMs, fallback: onTimeout });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The request was aborted.', 'AbortError');
}
