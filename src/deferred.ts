/**
 * A promise with its settle functions, for state that other code awaits (a worker becoming
 * ready, a process exiting). Rejections are pre-handled: a deferred nobody awaits must not
 * become an unhandled rejection that crashes the process.
 */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly isSettled: boolean;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let settle!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  promise.catch(() => {});
  let isSettled = false;
  return {
    promise,
    get isSettled() {
      return isSettled;
    },
    resolve(value) {
      if (isSettled) return;
      isSettled = true;
      settle(value);
    },
    reject(error) {
      if (isSettled) return;
      isSettled = true;
      fail(error);
    },
  };
}
