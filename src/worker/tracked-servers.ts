/**
 * The servers a worker drains when it stops (`trackServer()`), and the report of their open
 * requests to the primary while they drain (`$drain`), so that a forced stop can say what it
 * cut: once when the stop begins, then at each change, at most once per tick, never the same
 * count twice in a row.
 *
 * The count also goes to the primary as requests begin (`tellOpen`, `$openRequests`),
 * rate-limited: a request that begins after `kTellOpenMs` without a word is told at once, in its
 * own tick, so one that blocks the event loop for good right away has been counted when the hang
 * detection kills the worker (its heartbeat answers, up to a second old, never saw it). A fall
 * is told at once, once per window (and at once outside one, opening a window), so a worker that
 * answered and then hung is not counted with that request open. Per request this costs a few boolean tests, and within a window a count
 * until the first fall; at most three words per `kTellOpenMs`.
 */
import type { Server } from 'node:net';
import { deferred } from '../deferred.js';
import { isScriptCleanupUsed } from './script-cleanup.js';
import { effectiveSpreadMs, TrackedServer } from './tracked-server.js';

/** How often, in ms, the open requests are counted again while they are reported. */
const kReportPollMs = 250;
/** The shortest time, in ms, between two counts told to the primary outside a drain (`tellOpen`). */
const kTellOpenMs = 100;

export class TrackedServers {
  readonly #servers: TrackedServer[] = [];
  /** Called at each server's first request or connection (the lifecycle says it once to the primary). */
  readonly #onServe: () => void;
  /** Set when the drain begins, cleared by `stopReporting()`: where the counts go meanwhile. */
  #report: ((openRequests: number) => void) | undefined;
  /** Set while a report waits for the end of the tick. */
  #isReportQueued = false;
  #reported = -1;
  /** The stop's release plan for a plain script's own close (see `planRelease()`). */
  #plan: { deadline: number; spreadMs: number; gate: Promise<unknown> | undefined } | undefined;
  /** Reads the count again while reporting (see `startReporting()`). */
  #poll: NodeJS.Timeout | undefined;

  /** Where the count goes outside a drain (the primary, at once); undefined: nowhere. */
  readonly #tellOpen: ((openRequests: number) => void) | undefined;
  /** Set for `kTellOpenMs` after the count was told: changes meanwhile wait for the window's end. */
  #isOpenTold = false;
  #openTold = 0;
  /** Set once a fall was told within the window (below); cleared at the window's end. */
  #isFallTold = false;
  /** Set by a fall told within the window: the next request to begin is told at once too. */
  #isBeginAfterFall = false;
  /** A second fall within the window, told at the end of this turn of the event loop (once per window; see `#onChange`). */
  #isLateFallQueued = false;
  #isLateFallTold = false;

  constructor(onServe: () => void = () => {}, tellOpen?: (openRequests: number) => void) {
    this.#onServe = onServe;
    this.#tellOpen = tellOpen;
  }

  /** How many servers are tracked. */
  get size(): number {
    return this.#servers.length;
  }

  add(server: Server): void {
    const tracked = new TrackedServer(server, this.#onChange, this.#onServe, this.#onBegin);
    this.#servers.push(tracked);
    // A plain script closes its servers itself, in its own signal listener (script-cleanup.ts).
    if (isScriptCleanupUsed()) tracked.graceIdleClose(() => this.#plan);
  }

  /**
   * How a plain script's own `server.close()` releases keep-alive clients during the stop under
   * way: by its deadline, over `spreadMs`, after `gate` (undefined before any stop: at once).
   */
  planRelease(deadline: number, spreadMs: number, gate: Promise<unknown> | undefined): void {
    this.#plan = { deadline, spreadMs, gate };
  }

  /**
   * Drains every server by `deadline` (a timestamp), giving `report` their open requests
   * meanwhile; resolves with the requests cut off at the deadline (0 when all drained in time).
   * `spreadMs`: the time over which each server releases its connections (tracked-server.ts).
   * `beforeRelease`: called once every server closed; no connection is released before the
   * promise it returns settles.
   */
  async drain(deadline: number, report: (openRequests: number) => void, spreadMs = 0, beforeRelease?: () => Promise<unknown>): Promise<number> {
    this.startReporting(report);
    const gate = beforeRelease ? deferred<void>() : undefined;
    const draining = this.#servers.map((server) => server.drain(deadline, spreadMs, gate?.promise));
    // Called once every server closed (their close is sent to the primary synchronously).
    if (gate && beforeRelease) void beforeRelease().finally(() => gate.resolve());
    const cut = await Promise.all(draining);
    return cut.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Tells every server's HTTP keep-alive clients to go without closing the servers (see
   * `TrackedServer.release()`), after `gate` if given.
   */
  release(deadline: number, spreadMs = 0, gate?: Promise<unknown>): void {
    for (const server of this.#servers) server.release(deadline, spreadMs, gate);
  }

  /** Ends a gradual drain: every connection still waiting for its turn is released now. */
  releaseAll(): void {
    for (const server of this.#servers) server.releaseAll();
  }

  /**
   * What a gradual drain starting now would release: the open HTTP connections, and the time
   * over which it would (`spreadMs`, at most half the time left before `deadline`, in ms).
   */
  gradualDrain(deadline: number, spreadMs: number): { connections: number; spreadMs: number } {
    const connections = this.#servers.reduce((sum, server) => sum + server.connections, 0);
    return { connections, spreadMs: Math.round(effectiveSpreadMs(spreadMs, deadline)) };
  }

  /** What a cut-off now would cut on every server: in flight, and HTTP requests still arriving. */
  get pendingRequests(): number {
    return this.#servers.reduce((sum, server) => sum + server.pendingRequests, 0);
  }

  /** Requests in flight on every server (a plain TCP server's open connections). */
  get openRequests(): number {
    return this.#servers.reduce((sum, server) => sum + server.openRequests, 0);
  }

  /** How many of the servers still listen: none was closed by a script's own stop listener. */
  get listening(): number {
    return this.#servers.filter((server) => server.isListening).length;
  }

  /** Open connections with no request known on them, on every server (see `TrackedServer.idleConnections`). */
  get idleConnections(): number {
    return this.#servers.reduce((sum, server) => sum + server.idleConnections, 0);
  }

  /** The worker's stop began: count the responses its own code ends unfinished from now on (see `closedResponses`). */
  countClosedResponses(): void {
    for (const server of this.#servers) server.countClosedResponses();
  }

  /**
   * HTTP responses that code in the worker ended unfinished during its stop (it closed their
   * connections: `server.closeAllConnections()`, a socket's `destroy()`), on every server.
   */
  get closedResponses(): number {
    return this.#servers.reduce((sum, server) => sum + server.closedResponses, 0);
  }

  /**
   * The `$requestsCut` notice for requests that code in the worker cut during its stop:
   * `openRequests` still open as it exits (a `process.exit()`) and the responses it closed
   * unfinished before (`closedResponses`); `closedByWorker` when it closed them all and none was
   * left open (its line then says it closed their connections, not that it exited). Undefined
   * when it cut none.
   */
  cutByWorker(openRequests: number): { openRequests: number; closedByWorker?: true } | undefined {
    const closed = this.closedResponses;
    if (openRequests > 0) return { openRequests: openRequests + closed };
    return closed > 0 ? { openRequests: closed, closedByWorker: true } : undefined;
  }

  /** Destroys every open connection now; returns the requests that were still open. */
  cutOff(): number {
    return this.#servers.reduce((sum, server) => sum + server.cutOff(), 0);
  }

  /**
   * Gives `report` the requests a cut-off would cut (in flight, and HTTP requests still arriving)
   * from now on: at once, then at each change, without draining. A request whose headers arrive
   * slowly (a slowloris) raises no event: the count is also read every `kReportPollMs`, so the
   * count a forced stop reports includes it.
   */
  startReporting(report: (openRequests: number) => void): void {
    this.#report = report;
    this.#queueReport();
    if (this.#poll === undefined && this.#servers.length > 0) {
      this.#poll = setInterval(() => this.#queueReport(), kReportPollMs);
      this.#poll.unref();
    }
  }

  /**
   * Ends the reports, giving `report` the count now if it changed since the last: the primary
   * takes a stop that ends (`$stopped`) with requests open at its last report for a forged one.
   */
  stopReporting(): void {
    const openRequests = this.#report && this.#servers.length > 0 ? this.pendingRequests : this.#reported;
    if (openRequests !== this.#reported) {
      this.#reported = openRequests;
      this.#report?.(openRequests);
    }
    this.#report = undefined;
    clearInterval(this.#poll);
    this.#poll = undefined;
  }

  /**
   * Called as each request begins: on the request path, so a boolean test while the window is
   * open. Begins, not ends: a connection opening (which counts no request yet) or a response
   * ending would open the window just before the request that blocks the loop, and it would go
   * untold. A fall is told at once, once per window (`#onChange`), else at the window's end.
   */
  readonly #onBegin = (): void => {
    if (this.#tellOpen === undefined) return;
    if (!this.#isOpenTold) this.#tellOpenNow();
    else if (this.#isBeginAfterFall) {
      // After a fall told in this window: a request that begins and blocks must not go untold.
      this.#isBeginAfterFall = false;
      this.#openTold = this.pendingRequests;
      this.#tellOpen(this.#openTold);
    }
  };

  /**
   * A request ended (or a connection, a stream): once per window, a count below the one told is
   * told at once. A worker that answers its request and blocks its loop right after, before the
   * window's end, was counted with that request still open, and its forced stop reported it cut
   * off (tester t21). At most one such word per window, and one more for the next request to
   * begin (`#isBeginAfterFall`): three words per `kTellOpenMs` at most, whatever the traffic.
   */
  readonly #onChange = (): void => {
    this.#queueReport();
    if (this.#tellOpen === undefined) return;
    // No fall below the count told while the requests known open (no walk over the connections)
    // are as many: `pendingRequests`, which walks every connection, is read only when one may have
    // come. Read at each connection's open and close, it made a flood O(n²): 15,537 idle sticky
    // connections closing at once blocked a worker 11.6 s, past the heartbeat's timeout (hostile t63).
    if (this.openRequests >= this.#openTold) return;
    // No window open: the last word is over `kTellOpenMs` old, and a request that outlived its
    // window (200 ms) would end untold, then count as cut off if the worker hung (H170).
    if (!this.#isOpenTold) {
      if (this.pendingRequests < this.#openTold) this.#tellOpenNow();
      return;
    }
    if (this.#isFallTold) {
      this.#queueLateFall();
      return;
    }
    const openRequests = this.pendingRequests;
    if (openRequests >= this.#openTold) return;
    this.#isFallTold = true;
    this.#isBeginAfterFall = true;
    this.#openTold = openRequests;
    this.#tellOpen(openRequests);
  };

  /**
   * A second fall within the window (the request told by `#isBeginAfterFall` ended too): told at
   * the end of this turn of the event loop, once per window. A worker that answered a probe, then
   * a request that blocks its loop 20 ms later, was counted with that answered request open, and
   * its kill said `at least 1 request cut off` when none was (retest t57 R3, H550). At most five
   * words per window now, whatever the traffic.
   */
  #queueLateFall(): void {
    if (this.#isLateFallQueued || this.#isLateFallTold || this.pendingRequests >= this.#openTold) return;
    this.#isLateFallQueued = true;
    setImmediate(() => {
      this.#isLateFallQueued = false;
      // The window ended meanwhile: its end told the count.
      if (!this.#isOpenTold || this.#isLateFallTold) return;
      const openRequests = this.pendingRequests;
      if (openRequests >= this.#openTold) return;
      this.#isLateFallTold = true;
      this.#isBeginAfterFall = true;
      this.#openTold = openRequests;
      this.#tellOpen?.(openRequests);
    }).unref();
  }

  /**
   * Tells the count now and opens a window of `kTellOpenMs` in which changes are not told; at its
   * end, a count that moved since is told (and a new window opens), so the last word is the
   * count as it settled, not the one of a request long finished.
   */
  #tellOpenNow(): void {
    this.#isOpenTold = true;
    this.#openTold = this.pendingRequests;
    this.#tellOpen?.(this.#openTold);
    setTimeout(() => {
      this.#isOpenTold = false;
      this.#isFallTold = false;
      this.#isBeginAfterFall = false;
      this.#isLateFallTold = false;
      if (this.pendingRequests !== this.#openTold) this.#tellOpenNow();
    }, kTellOpenMs).unref();
  }

  #queueReport(): void {
    if (!this.#report || this.#isReportQueued || this.#servers.length === 0) return;
    this.#isReportQueued = true;
    setImmediate(() => {
      this.#isReportQueued = false;
      const openRequests = this.pendingRequests;
      if (!this.#report || openRequests === this.#reported) return;
      this.#reported = openRequests;
      this.#report(openRequests);
    }).unref();
  }
}
