/**
 * Validation of per-call options (`send`, `broadcast`, `shutdown`...), shared by both sides.
 */
import { InvalidOptionError } from '../errors.js';
import type { SendOptions } from '../types.js';
import { durationOption } from '../duration.js';
import { knownOptions } from '../validate.js';
import { isAborted } from './on-abort.js';

export interface NormalizedSendOptions {
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
}

const kNoOptions: NormalizedSendOptions = Object.freeze({ timeoutMs: undefined, signal: undefined });

const kSendOptionKeys = ['timeoutMs', 'signal'];

/**
 * The options of `send`, `broadcast` and `sendTo`. Unknown keys are refused (`{ timeout: 5 }`
 * would otherwise wait the default 30 s), as are options whose reading throws.
 * @throws InvalidOptionError
 */
export function normalizeSendOptions(options: SendOptions | undefined): NormalizedSendOptions {
  if (options === undefined) return kNoOptions;
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object such as { timeoutMs: 1000 }', options);
  // Per message: read in place, without the copy `knownOptions` makes; it runs only to
  // refuse an unknown key or a read that throws, with the right error.
  let timeoutMs: unknown;
  let signal: unknown;
  try {
    if (!hasOnlySendKeys(options)) throw options;
    ({ timeoutMs, signal } = options);
  } catch {
    ({ timeoutMs, signal } = knownOptions(options, kSendOptionKeys, 'options'));
  }
  if (signal !== undefined) checkSignal(signal);
  return {
    timeoutMs: timeoutMs === undefined ? undefined : durationOption(timeoutMs, 'timeoutMs', 0, { allowInfinity: true }),
    signal: signal as AbortSignal | undefined,
  };
}

/**
 * The options of a call that takes only `timeoutMs` (`stopWorker`, `metrics`), or `timeoutMs`
 * and others (`known`): unknown keys refused, `timeoutMs` a duration, `fallback` when left out.
 * @throws InvalidOptionError
 */
export function normalizeTimeoutOptions(options: unknown, fallback: number, known: readonly string[] = ['timeoutMs']): { timeoutMs: number } & Record<string, unknown> {
  const copy = knownOptions(options, known, 'options');
  return { ...copy, timeoutMs: durationOption(copy.timeoutMs, 'timeoutMs', fallback) };
}

/** True when `options` has no own enumerable key but `timeoutMs` and `signal` (no allocation). */
function hasOnlySendKeys(options: object): boolean {
  for (const key in options) if (key !== 'timeoutMs' && key !== 'signal' && Object.hasOwn(options, key)) return false;
  return true;
}

/**
 * Refuses a `signal` that is not a real AbortSignal: `Object.create(AbortSignal.prototype)` passes
 * `instanceof` and then made Node throw `ERR_INVALID_THIS` from deep inside a send (hostile t68
 * F1). A real one's own `aborted`, `reason` or `addEventListener`, replaced by user code, is never
 * used: clusterkit reads it through Node's own accessors (on-abort.ts).
 * @throws InvalidOptionError
 */
function checkSignal(signal: unknown): asserts signal is AbortSignal {
  let isSignal: boolean;
  try {
    // `instanceof` runs a Proxy's getPrototypeOf trap, which may throw (retest t68b).
    isSignal = signal instanceof AbortSignal;
  } catch (error) {
    throw new InvalidOptionError('signal', 'an AbortSignal', signal, { cause: error });
  }
  if (!isSignal) throw new InvalidOptionError('signal', 'an AbortSignal', signal);
  try {
    isAborted(signal as AbortSignal);
  } catch (error) {
    throw new InvalidOptionError(
      'signal',
      'a real AbortSignal (new AbortController().signal, AbortSignal.timeout() or AbortSignal.any()), not an object that only inherits from AbortSignal.prototype',
      signal,
      { cause: error },
    );
  }
}
