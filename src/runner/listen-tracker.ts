/**
 * Finding the servers a worker module listens on, without its cooperation: `listen()` is
 * wrapped on `net.Server.prototype` (which Node's http, https and http2 servers inherit; Bun's
 * http servers get their own, see serverPrototypes) before the module is imported. Each server is handed to `trackServer()` so stop and reload drain it,
 * and the worker can wait until its servers actually listen before it reports ready.
 */
import net from 'node:net';

export interface ListenTracker {
  /**
   * Resolves once every server whose `listen()` was called so far listens (checked after the
   * current turn of the event loop). Rejects with a listen error nobody else handles.
   */
  settled(): Promise<void>;
  /** Resolves when the first server listens. */
  readonly firstListening: Promise<void>;
  /** From now on, an unhandled listen error crashes the process, as it would without us. */
  markReady(): void;
}

let isInstalled = false;

/** Installs the wrapper; `onServer` is called once per server, at its first `listen()`. */
export function trackListeningServers(onServer: (server: net.Server) => void): ListenTracker {
  if (isInstalled) throw new Error('The listen tracker is installed once per process.');
  isInstalled = true;
  const seen = new WeakSet<net.Server>();
  const pending = new Set<Promise<void>>();
  let isReady = false;
  let signalFirst: () => void = () => {};
  const firstListening = new Promise<void>((resolve) => (signalFirst = resolve));

  const watch = (server: net.Server): void => {
    const done = new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        server.off('listening', onListening);
        server.off('error', onError);
      };
      const onListening = () => {
        cleanup();
        signalFirst();
        resolve();
      };
      // Our listener must not swallow errors: with no other listener, the error does what it
      // would have done without us (fail the start before ready, crash the process after).
      const onError = (error: Error) => {
        cleanup();
        const isUnhandled = server.listenerCount('error') === 0;
        if (isUnhandled && !isReady) return reject(error);
        resolve();
        if (isUnhandled) process.nextTick(() => { throw error; });
      };
      server.once('listening', onListening);
      server.on('error', onError);
    });
    pending.add(done);
    const forget = () => pending.delete(done);
    done.then(forget, forget);
  };

  for (const prototype of serverPrototypes()) {
    const listen = prototype.listen;
    prototype.listen = function (this: net.Server, ...args: unknown[]) {
      if (!seen.has(this)) {
        seen.add(this);
        onServer(this);
      }
      if (!this.listening) watch(this);
      return (listen as (...rest: unknown[]) => net.Server).apply(this, args);
    } as typeof listen;
  }

  return {
    firstListening,
    async settled() {
      // listen() calls made in promise callbacks right after the import still count.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([...pending]);
    },
    markReady() {
      isReady = true;
    },
  };
}

/**
 * Whose `listen()` to wrap. Under Bun, http.Server (and https.Server, its subclass) wraps
 * Bun.serve and does not inherit from net.Server, so its own `listen()` is wrapped too; under
 * Node, `node:http` is not loaded for this.
 */
function serverPrototypes(): Array<Pick<net.Server, 'listen'>> {
  const prototypes: Array<Pick<net.Server, 'listen'>> = [net.Server.prototype];
  if (process.versions.bun !== undefined) {
    const http = process.getBuiltinModule('node:http');
    if (!(http.Server.prototype instanceof net.Server)) prototypes.push(http.Server.prototype);
  }
  return prototypes;
}
