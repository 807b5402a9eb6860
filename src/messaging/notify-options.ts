/**
 * `notify()` takes no options: it waits for no reply, so a timeout or an abort signal has
 * nothing to act on. One given anyway (code moved from `send(w, type, payload, { signal })`)
 * was ignored without a word (hostile tester t53), against the rule that an option clusterkit
 * does not take is refused. `undefined` is no option.
 */
import { describeValue, InvalidArgumentError } from '../errors.js';

/** Throws InvalidArgumentError for anything but `undefined` after a notification's payload (`args[0]`), at any place. */
export function checkNoNotifyOptions(args: readonly unknown[]): void {
  for (let index = 1; index < args.length; index++) {
    if (args[index] === undefined) continue;
    throw new InvalidArgumentError(
      `notify() takes no options after its payload: a notification waits for no reply, so it has no timeout and no abort signal; use send() for those (it resolves with the reply). Received ${describeValue(args[index])} after the payload.`,
    );
  }
}
