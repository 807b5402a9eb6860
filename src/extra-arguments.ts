/**
 * A call given more arguments than it takes: refused, as an unknown option is. Hostile t79:
 * `scale(2, { timeoutMs: 1000 })` resolved as `scale(2)`, its second argument ignored without a
 * word, while `notify()` refused one (src/messaging/notify-options.ts). `undefined` is no
 * argument (a caller forwarding an optional one).
 */
import { describeValue, InvalidArgumentError } from './errors.js';

/**
 * Throws InvalidArgumentError for any argument past the `names.length` that `call` takes.
 * `call`: its name as written, `scale()`; `names`: the arguments it takes, in order; `args`: its
 * arguments, or a rest parameter's, whose first is argument `offset` (0-based) of the call.
 */
export function checkNoExtraArguments(call: string, args: ArrayLike<unknown>, names: readonly string[], offset = 0): void {
  const error = extraArgumentError(call, args, names, offset);
  if (error !== undefined) throw error;
}

/** The InvalidArgumentError `checkNoExtraArguments` throws, for a call that rejects instead; undefined when there is no such argument. */
export function extraArgumentError(call: string, args: ArrayLike<unknown>, names: readonly string[], offset = 0): InvalidArgumentError | undefined {
  for (let index = Math.max(0, names.length - offset); index < args.length; index++) {
    if (args[index] === undefined) continue;
    const takes = names.length === 0 ? 'takes no argument' : `takes ${names.length === 1 ? 'one argument' : `${names.length} arguments`}, ${names.join(', ')}`;
    return new InvalidArgumentError(`${call} ${takes}: received ${describeValue(args[index])} as argument ${offset + index + 1}, which it would ignore. Remove it (its docs list what the call takes).`);
  }
  return undefined;
}

/** What `firstExtraArgument` returns when there is none: `undefined` is no argument. */
export const kNoArgument: unique symbol = Symbol('no argument');

/** The first argument at or past index `from` that is not `undefined`, or `kNoArgument`: for a call with its own words for the refusal. */
export function firstExtraArgument(args: ArrayLike<unknown>, from: number): unknown {
  for (let index = from; index < args.length; index++) if (args[index] !== undefined) return args[index];
  return kNoArgument;
}
