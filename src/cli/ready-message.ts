/**
 * PM2's `wait_ready` contract for `clusterkit run`: a script that warms up after it listens
 * calls `process.send('ready')` when it can serve. The message is PM2's, so is the name.
 * With the flag, the worker side watches for it (`watchReadyMessage`) and still sends it on: the primary
 * ignores a message that is not clusterkit's (envelope.ts), and `run` uses it to point a
 * script that sends it without `--wait-ready` at the flag (once per cluster).
 */

/** What a script sends when it is ready, as under PM2's wait_ready. */
export const kReadyMessage = 'ready';

/**
 * Set by `clusterkit run --wait-ready` in the workers' environment for worker-main, which
 * removes it before the script runs.
 */
export const kWaitReadyEnv = 'CLUSTERKIT_WAIT_READY';

/**
 * Resolves when this process first calls `process.send('ready')`. The call itself goes through
 * unchanged (its callback, its return value), so a script behaves as it would without us.
 */
export function watchReadyMessage(): Promise<void> {
  const send = process.send;
  // Not forked with an IPC channel: nothing can be sent, so the message never comes.
  if (typeof send !== 'function') return new Promise<void>(() => {});
  let signal: () => void = () => {};
  const ready = new Promise<void>((resolve) => (signal = resolve));
  // clusterkit's own frames do not pass here (process-port.ts): only the script's sends.
  process.send = function (this: NodeJS.Process, message: unknown): boolean {
    if (message === kReadyMessage) signal();
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(send, this, arguments) as boolean;
  } as typeof process.send;
  return ready;
}
