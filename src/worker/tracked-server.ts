/**
 * Graceful draining of servers a worker registers with `trackServer()`.
 *
 * On stop the server stops accepting (in cluster mode the primary stops routing connections to
 * it), in-flight requests finish, and every response from then on says `Connection: close`, so
 * keep-alive clients reconnect to a live worker instead of reusing this one. Whatever is still
 * open at the deadline is destroyed.
 *
 * A drain can be gradual (`spreadMs`, the primary's `gradualDrainMs` during reloads and
 * scale-downs): the open connections are then released one at a time, evenly over that time,
 * instead of all at once. A connection keeps its keep-alive until its turn. The worker taking
 * over (a fresh process, its JIT cold) then receives the reconnections a few at a time, instead
 * of every client of this worker in the same few milliseconds. This is Envoy's "gradual" drain
 * strategy. In `npm run bench:reload`, it took a reload's p99 latency from 2.26x the steady p99
 * to 1.15x (docs/performance.md).
 *
 * Idle keep-alive sockets are not closed at once (which `http.Server#close()` does since Node
 * 19): a client may be sending its next request on one at that very moment, and would see a
 * reset. A released socket is closed only after staying idle for `kIdleGraceMs`. A request that
 * arrives meanwhile is answered with `Connection: close`.
 *
 * HTTP/2 servers (`http2.createServer()`, `createSecureServer()`) drain the same way by their
 * own means: a session's turn sends GOAWAY (`session.close()`), which refuses new streams (a
 * client retries those on a new connection, RFC 9113, 6.8) and lets the streams in flight
 * finish; a session that opens during the drain is told at once. A request is a stream.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import { Server as NetServer, type Socket } from 'node:net';

/** How long a keep-alive socket must stay idle during a drain before it is closed. */
export const kIdleGraceMs = 250;

/** One open socket: its responses in flight, and the requests it has begun (HTTP only). */
interface SocketState {
  /** Its responses not yet finished: what a release tells to say `Connection: close`. */
  readonly responses: Set<ServerResponse>;
  begun: number;
  /**
   * `socket.bytesRead` when it last had no request in flight (at connection, then at each
   * response's end): more read since means a request is coming in, headers not complete yet.
   */
  bytesAtIdle: number;
  /** Set once its turn in the drain came: its responses say `Connection: close`. */
  isReleased: boolean;
  /**
   * Once the stop counts closed responses (`countClosedResponses()`): whether the client ended
   * or reset the connection before this side ended it. Undefined while neither happened, and
   * when this side destroyed it (no 'end' or 'error' comes then).
   */
  isPeerFirst?: boolean;
}

export class TrackedServer {
  readonly #server: NetServer;
  /** Open sockets, with their requests (HTTP only; none for raw TCP). */
  readonly #sockets = new Map<Socket, SocketState>();
  readonly #responses = new Set<ServerResponse>();
  /**
   * Responses ended by the application (their 'prefinish') whose 'close' has not come yet: those
   * of them whose bytes all left the process are delivered (`isDelivered()`), not open. Small:
   * a response stays here from its `end()` to its 'close', a tick unless its client reads slowly.
   */
  readonly #ended = new Set<ServerResponse>();
  /** Set by the first `release()` (a drain's, or a plain script's own close): responses from then on may say `Connection: close`. */
  #isDraining = false;
  /** Called whenever `openRequests` may have changed (a request or a connection began or ended). */
  readonly #onChange: () => void;
  /** Called once, at the first request (HTTP) or connection (plain TCP): the worker served. */
  readonly #onServe: () => void;
  /** Called as each request (HTTP, an HTTP/2 stream) or connection (plain TCP) begins, counted in `openRequests` already. */
  readonly #onBegin: () => void;
  #hasServed = false;
  /** Set by `countClosedResponses()` when the worker's stop begins; cleared by `cutOff()`, which counts what it cuts itself. */
  #isCountingClosed = false;
  /** Responses the worker's own code ended unfinished during its stop (see `closedResponses`). */
  #closedResponses = 0;
  /** HTTP/2 only: open sessions, each with whether its turn in the drain came (GOAWAY sent) and its streams open. */
  readonly #sessions = new Map<Http2Session, { isReleased: boolean; streams: number }>();
  /** HTTP/2 only: streams open (its requests in flight). */
  #streams = 0;
  /** HTTP/2 only: set once the drain began releasing sessions (after its gate, if any). */
  #isReleasing = false;

  /** Whether the server still listens: no close() was called on it (a script's listener that closes nothing). */
  get isListening(): boolean {
    return this.#server.listening;
  }

  constructor(server: NetServer, onChange: () => void = () => {}, onServe: () => void = () => {}, onBegin: () => void = () => {}) {
    this.#server = server;
    this.#onChange = onChange;
    this.#onServe = onServe;
    this.#onBegin = onBegin;
    const isHttp = isHttpServer(server);
    const isHttp2 = isHttp2Server(server);
    // A TLS server's requests (https, http2's secure server) come on the TLS socket of
    // 'secureConnection'; its 'connection' gives the raw socket beneath, whose bytes and close
    // the TLS layer takes over (tracked, idle ones outlived the drain to their keep-alive
    // timeout, and any one that had sent bytes counted as a request when cut off).
    server.on(isTlsServer(server) ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (!isHttp && !isHttp2 && !this.#hasServed) this.#served();
      // A socket that arrives during a drain (fed by the primary) has no turn to wait for.
      const state: SocketState = { responses: new Set(), begun: 0, bytesAtIdle: socket.bytesRead, isReleased: this.#isDraining };
      this.#sockets.set(socket, state);
      if (this.#isCountingClosed && isHttp) watchWhoEnds(socket, state);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#onChange();
      });
      this.#onChange();
      if (!isHttp && !isHttp2) this.#onBegin();
    });
    if (isHttp) {
      // Prepended so it runs before the application's handler can write the headers.
      server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => this.#onRequest(request, response));
    }
    if (isHttp2) {
      server.on('session', (session: Http2Session) => this.#onSession(session));
      server.prependListener('stream', (stream: ServerHttp2Stream) => this.#onStream(stream));
    }
  }

  get server(): NetServer {
    return this.#server;
  }

  /** Open HTTP connections: what a gradual drain releases one at a time (0 for a plain TCP server). */
  get connections(): number {
    if (isHttp2Server(this.#server)) return this.#sessions.size;
    return isHttpServer(this.#server) ? this.#sockets.size : 0;
  }

  /** HTTP requests in flight (the responses not yet finished); for a plain TCP server, its open connections. */
  get openRequests(): number {
    // A connection without a session (HTTP/1 on an `allowHTTP1` server, a TLS handshake under
    // way) counts as one, as a plain TCP connection does: its requests are not seen one by one.
    if (isHttp2Server(this.#server)) return this.#streams + Math.max(0, this.#sockets.size - this.#sessions.size);
    if (!isHttpServer(this.#server)) return this.#sockets.size;
    return this.#responses.size - this.#delivered();
  }

  /**
   * Responses ended whose every byte left the process, still in `#responses` until their 'close':
   * a `process.exit()` right after `res.end()` (a crash, a script's own exit) comes before the
   * 'finish' and 'close' that Node emits a tick later, and the client got the whole response
   * (H466). One with bytes still buffered in the process is cut off by an exit: not counted here.
   */
  #delivered(): number {
    let delivered = 0;
    for (const response of this.#ended) if (isDelivered(response)) delivered++;
    return delivered;
  }

  /**
   * Open connections with no request known on them: HTTP keep-alive connections between two
   * requests (HTTP/2 sessions with no stream open). A crash resets them too, and a request their
   * client already sent, not read yet, is lost with them: what the requests count cannot see
   * (H228). A plain TCP server counts its connections as requests: 0.
   */
  get idleConnections(): number {
    let idle = 0;
    if (isHttp2Server(this.#server)) {
      for (const state of this.#sessions.values()) if (state.streams === 0) idle++;
    } else if (isHttpServer(this.#server)) {
      // Not one the server is closing (its last response said `Connection: close`): no request can
      // come on it, and its client is done with it (final retest t57 N1: counted "1 open
      // connection reset" at every kill after such a request, H554).
      for (const [socket, state] of this.#sockets) if (state.responses.size === 0 && socket.bytesRead <= state.bytesAtIdle && !socket.writableEnded && !socket.destroyed) idle++;
    }
    return idle;
  }

  /**
   * Drains the server; resolves when it is closed and its connections are gone (at the latest
   * at `deadline`, a timestamp), with the requests it cut off at the deadline (`openRequests`
   * then; 0 when it drained in time). A server fed by the primary (`serveSticky()`) never
   * listens, so its tracked sockets are what it waits for.
   * @param spreadMs the time over which open HTTP connections are released, one at a time (0:
   *   all at once); at most half of the time left before `deadline`, so that the last one
   *   released still has time to finish its request.
   * @param releaseGate when given, no connection is released before it settles (the server
   *   closes at once): in a shutdown, not before every worker of the cluster stopped accepting
   *   (worker-lifecycle.ts); meanwhile responses keep their keep-alive.
   */
  drain(deadline: number, spreadMs = 0, releaseGate?: Promise<unknown>): Promise<number> {
    this.release(deadline, spreadMs, releaseGate);
    const server = this.#server;
    const closed = new Promise<void>((resolve) => {
      if (!server.listening) return this.#whenNoSockets(resolve);
      // net.Server's close: stop accepting, but leave idle keep-alive sockets to the grace below.
      // Bun's http.Server is not a net.Server (it wraps Bun.serve; net's close throws on it), so
      // it gets its own close, which also stops accepting and lets requests in flight finish.
      const close = (server as object) instanceof NetServer ? NetServer.prototype.close : server.close;
      // Then its sockets' own 'close': a destroyed socket leaves the server's count at once, and
      // the server may say closed before the socket, and the response on it, say so.
      close.call(server, () => this.#whenNoSockets(resolve));
    });
    let cut = 0;
    const timer = setTimeout(() => (cut = this.cutOff()), Math.max(0, deadline - Date.now()));
    return closed.finally(() => clearTimeout(timer)).then(() => cut);
  }

  /**
   * Tells the HTTP keep-alive clients to go, as a drain does, without closing the server: from now
   * on every response says `Connection: close`, and the open connections are released one at a
   * time over `spreadMs` (at most half the time left before `deadline`), after `releaseGate` if
   * given; an idle one is closed after `kIdleGraceMs`. For a plain script that stops through its
   * own signal listener: its `server.close()` waits for every connection to end, which busy
   * keep-alive clients otherwise never do. Nothing for a plain TCP server.
   */
  release(deadline: number, spreadMs = 0, releaseGate?: Promise<unknown>): void {
    // Once per stop: a plain script's close and the stop itself may both ask.
    if (this.#isDraining) return;
    this.#isDraining = true;
    if (!isHttpServer(this.#server) && !isHttp2Server(this.#server)) return;
    const release = () => this.#releaseInTurns(effectiveSpreadMs(spreadMs, deadline));
    if (releaseGate) void releaseGate.then(release, release);
    else release();
  }

  /**
   * For a plain script that closes its own server (`server.close()` in its signal listener):
   * Node 19+'s `close()` destroys the idle keep-alive connections at once, and a busy client's
   * next request, already on its way on one of them, meets a reset (a retest lost 3 to 15 per
   * reload or stop). Here `close()` releases them as a drain does instead: idle ones are closed
   * after `kIdleGraceMs` unless a request comes in (answered with `Connection: close`), busy
   * ones close after their response, spread and gated as the stop under way says (`plan()`;
   * at once without one). The server itself closes as Node closes it.
   */
  graceIdleClose(plan: () => { deadline: number; spreadMs: number; gate: Promise<unknown> | undefined } | undefined): void {
    const server = this.#server;
    if (!isHttpServer(server)) return;
    Object.defineProperty(server, 'closeIdleConnections', {
      configurable: true,
      writable: true,
      value: () => {
        const stop = plan();
        this.release(stop?.deadline ?? Date.now(), stop?.spreadMs ?? 0, stop?.gate);
      },
    });
  }

  /**
   * Releases now every connection still waiting for its turn in a gradual drain: the cluster is
   * shutting down, nobody takes these clients over.
   */
  releaseAll(): void {
    if (!this.#isDraining) return;
    if (isHttp2Server(this.#server)) for (const [session, state] of this.#sessions) if (!state.isReleased) releaseSession(session, state);
    if (!isHttpServer(this.#server)) return;
    for (const [socket, state] of this.#sockets) if (!state.isReleased) this.#release(socket, state);
  }

  /**
   * Destroys every open connection now; returns the requests that were still open: those in
   * flight (`openRequests`) and, for HTTP, those begun but not yet parsed (bytes came in since
   * the socket's last response, as from a slowloris that never ends its headers): a request
   * that began and got no answer is cut off, however little of it arrived.
   */
  cutOff(): number {
    this.#isCountingClosed = false;
    const open = this.pendingRequests;
    for (const socket of this.#sockets.keys()) socket.destroy();
    return open;
  }

  /**
   * The requests a cut-off now would cut (see `cutOff()`): those in flight and, for HTTP, those
   * begun but not yet parsed. Bytes arriving raise no event: read it again to see them.
   */
  get pendingRequests(): number {
    let open = this.openRequests;
    if (isHttpServer(this.#server)) {
      // `responses`, not the undelivered ones: `bytesAtIdle` moves at a response's 'close', so a
      // socket whose response is delivered, not closed yet, would count its own request again.
      for (const [socket, state] of this.#sockets) if (state.responses.size === 0 && socket.bytesRead > state.bytesAtIdle) open++;
    }
    return open;
  }

  /**
   * From now on (the worker's stop began), counts the responses whose connection closed before
   * they finished, not by the client: code in the worker closed it (`server.closeAllConnections()`,
   * `socket.destroy()`, a library's own cleanup) and reset the client mid-response.
   */
  countClosedResponses(): void {
    if (this.#isCountingClosed) return;
    this.#isCountingClosed = true;
    // Two listeners per open connection, from the stop on: none on the way there. HTTP only: a
    // plain TCP server has no responses to count, and an 'error' listener would change what an
    // unhandled socket error does in it.
    if (isHttpServer(this.#server)) for (const [socket, state] of this.#sockets) watchWhoEnds(socket, state);
  }

  /**
   * Responses ended unfinished by the worker's own side since `countClosedResponses()`: the
   * connection closed while `writableFinished` was false, and not because the client went (its
   * end of the stream came, or its reset errored the socket). A plain TCP server has no
   * response to tell finished from cut: 0.
   */
  get closedResponses(): number {
    return this.#closedResponses;
  }

  #whenNoSockets(resolve: () => void): void {
    if (this.#sockets.size === 0) return resolve();
    for (const socket of this.#sockets.keys()) {
      socket.once('close', () => {
        if (this.#sockets.size === 0) resolve();
      });
    }
  }

  /** HTTP/2: a session opened; one that opens once the drain released the others is told to go at once. */
  #onSession(session: Http2Session): void {
    const state = { isReleased: false, streams: 0 };
    this.#sessions.set(session, state);
    session.once('close', () => {
      this.#sessions.delete(session);
      this.#onChange();
    });
    // One handed over as the drain runs: its first streams, likely on their way already, are
    // served, as an HTTP/1 connection's first request is; then GOAWAY.
    if (this.#isReleasing) setTimeout(() => this.#sessions.has(session) && releaseSession(session, state), kIdleGraceMs).unref();
  }

  /** HTTP/2: a stream (a request) opened; counted until it closes. */
  #onStream(stream: ServerHttp2Stream): void {
    if (!this.#hasServed) this.#served();
    this.#streams++;
    const session = this.#sessions.get(stream.session as Http2Session);
    if (session) session.streams++;
    this.#onChange();
    this.#onBegin();
    stream.once('close', () => {
      this.#streams--;
      if (session) session.streams--;
      this.#onChange();
    });
  }

  /** The first request or connection: said once, then a boolean test per request. */
  #served(): void {
    this.#hasServed = true;
    this.#onServe();
  }

  #onRequest(request: IncomingMessage, response: ServerResponse): void {
    if (!this.#hasServed) this.#served();
    const socket = request.socket;
    const state = this.#sockets.get(socket);
    if (state) {
      state.responses.add(response);
      state.begun++;
    }
    if (this.#isDraining && (state?.isReleased ?? true)) response.shouldKeepAlive = false;
    this.#responses.add(response);
    this.#onChange();
    this.#onBegin();
    // Synchronous in `end()` once the response's bytes went to the socket: the count falls now,
    // not a tick later at its 'close', which an exit or a blocked loop right after never reaches.
    response.once('prefinish', () => {
      this.#ended.add(response);
      this.#onChange();
    });
    response.once('close', () => {
      // O(1), in the listener every response already has: a cut by the worker's own code (it
      // destroyed or ended the connection first: `socket.end()` is answered by the client's
      // own end, which must not pass for the client leaving).
      if (this.#isCountingClosed && !response.writableFinished && state?.isPeerFirst !== true && (state !== undefined || (!socket.readableEnded && !socket.errored))) this.#closedResponses++;
      this.#responses.delete(response);
      this.#ended.delete(response);
      this.#onChange();
      if (!state || !this.#sockets.has(socket)) return;
      state.responses.delete(response);
      if (state.responses.size > 0) return;
      state.bytesAtIdle = socket.bytesRead;
      if (state.isReleased) this.#closeIfStillIdle(socket, state);
    });
  }

  /**
   * Releases the open sockets, the first now, the others one by one evenly over `spreadMs`.
   * Each waits for its turn on a timer of its own, unref'd: a turn never keeps the worker alive.
   */
  #releaseInTurns(spreadMs: number): void {
    if (isHttp2Server(this.#server)) {
      this.#isReleasing = true;
      const sessions = [...this.#sessions];
      sessions.forEach(([session, state], index) => {
        const delay = (spreadMs * index) / sessions.length;
        if (delay === 0) releaseSession(session, state);
        else setTimeout(() => this.#sessions.has(session) && !state.isReleased && releaseSession(session, state), delay).unref();
      });
      return;
    }
    const sockets = [...this.#sockets];
    sockets.forEach(([socket, state], index) => {
      const delay = (spreadMs * index) / sockets.length;
      if (delay === 0) this.#release(socket, state);
      else setTimeout(() => this.#sockets.has(socket) && !state.isReleased && this.#release(socket, state), delay).unref();
    });
  }

  /** A socket's turn: its responses say `Connection: close` from now on; closed once idle. */
  #release(socket: Socket, state: SocketState): void {
    state.isReleased = true;
    for (const response of state.responses) if (!response.headersSent) response.shouldKeepAlive = false;
    if (state.responses.size === 0) this.#closeIfStillIdle(socket, state);
  }

  /**
   * Closes a released socket once it has been idle for `kIdleGraceMs`: no request began, and no
   * byte of a next request has come in since its last response (`bytesRead`, which counts a
   * request whose headers are still arriving, however slowly, or one read but not yet parsed).
   * A request coming in is waited for: it says `Connection: close` once it begins, and the
   * socket closes after its response (a slowloris is cut at the deadline). A client whose
   * request is still in the network when the socket closes sees the close on a reused
   * connection, which HTTP clients retry (RFC 9112, 9.3.1).
   *
   * The check runs after the event loop's next poll, not in the timer: timers run before the
   * poll that reads what arrived meanwhile, so a request that came while this worker's loop was
   * held up (a busy or loaded machine: the timer fires late, with the request already in the
   * kernel's buffer) was not counted in `bytesRead` yet, and the close reset it, unread, on a
   * connection the client had every reason to reuse.
   */
  #closeIfStillIdle(socket: Socket, state: SocketState): void {
    const begun = state.begun;
    const isStillIdle = (): boolean => this.#sockets.has(socket) && state.responses.size === 0 && state.begun === begun;
    setTimeout(() => {
      if (!isStillIdle()) return;
      setImmediate(() => {
        if (!isStillIdle()) return;
        if (socket.bytesRead === state.bytesAtIdle) socket.destroy();
        else this.#closeIfStillIdle(socket, state); // a request is coming in
      }).unref();
    }, kIdleGraceMs).unref();
  }
}

/**
 * A response delivered as far as this process can tell: ended, and every byte of it handed to
 * the operating system (`writableFinished`: nothing left in the response nor in its socket's
 * buffer), its socket not destroyed. Its 'finish' and 'close' may not have come yet.
 */
function isDelivered(response: ServerResponse): boolean {
  return response.writableFinished && !response.destroyed && response.socket?.destroyed !== true;
}

/**
 * The time a gradual drain actually spreads the releases over: `spreadMs`, but at most half of
 * the time left before `deadline`, so that the last one released still has time to finish.
 */
export function effectiveSpreadMs(spreadMs: number, deadline: number): number {
  return Math.max(0, Math.min(spreadMs, (deadline - Date.now()) / 2));
}

/**
 * Notes in `state.isPeerFirst` whether the client ended or reset `socket` before this side
 * ended it: its 'end' (the client's FIN) or 'error' (its reset) coming while this side's
 * writable end is still open. Called as the stop begins, before any 'shutdown' listener runs:
 * a connection the client had already ended or reset by then is the client's doing (Node's
 * HTTP server ends its own side right after the client's end, so the order is lost by then).
 */
function watchWhoEnds(socket: Socket, state: SocketState): void {
  if (socket.readableEnded || socket.errored) {
    state.isPeerFirst = true;
    return;
  }
  const note = (): void => {
    state.isPeerFirst ??= !socket.writableEnded && !socket.destroyed;
    socket.off('end', note);
    socket.off('error', note);
  };
  // Prepended: Node's own 'end' listener ends this side at once (socketOnEnd), before ours.
  socket.prependListener('end', note);
  socket.prependListener('error', note);
}

/**
 * A session's turn in the drain: GOAWAY, and it closes once its streams in flight have ended
 * (`Http2Session#close()`). A session already closing or destroyed is left as it is.
 */
function releaseSession(session: Http2Session, state: { isReleased: boolean }): void {
  state.isReleased = true;
  if (!session.closed && !session.destroyed) session.close();
}

/** TLS servers (https, http2's secure server, tls), told apart without loading `node:tls`. */
function isTlsServer(server: NetServer): boolean {
  return typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function';
}

/** http2 servers (h2c and TLS), told apart without loading `node:http2` into every worker. */
function isHttp2Server(server: NetServer): boolean {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/**
 * http and https servers, told apart without loading `node:http` into every worker. Not an
 * http2 TLS server, which has `closeIdleConnections()` too (for its `allowHTTP1` side) but
 * carries its requests on sessions (a retest: drained as HTTP/1, no GOAWAY, every session held
 * to the deadline).
 */
function isHttpServer(server: NetServer): server is HttpServer {
  return typeof (server as Partial<HttpServer>).closeIdleConnections === 'function' && !isHttp2Server(server);
}
