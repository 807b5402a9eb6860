/**
 * The `minReady` of each open health endpoint of a primary, so that a worker count below it is
 * said at the call that sets it (H464): `scale(1)` under `minReady: 2` left `/readyz` at 503
 * "1 of 2 required workers ready" for good, without a word, and Kubernetes took the pod out of
 * its Service. A warning, not a refusal: scaling down on purpose (to free memory, to debug) is
 * the operator's call, and a refusal would leave no way to do it without a restart.
 */
import { ReadinessUnreachableError } from '../../errors.js';
import { plural } from '../../plural.js';

/** One endpoint's minimum. Endpoints with a `role` count only some workers: not tracked here. */
export interface HealthMinimum {
  readonly minReady: number;
  readonly port: number;
}

const minima = new WeakMap<object, Set<HealthMinimum>>();

/** Records `minimum` for `primary` until the returned function is called (the endpoint closed). */
export function trackHealthMinimum(primary: object, minimum: HealthMinimum): () => void {
  let set = minima.get(primary);
  if (set === undefined) minima.set(primary, (set = new Set()));
  set.add(minimum);
  return () => set.delete(minimum);
}

/**
 * The warning for running `workers` workers under an open health endpoint of `primary`;
 * undefined when every endpoint can be ready. `at`: `'scale'` for a scale to that count,
 * `'start'` for the count the primary starts or runs with as the endpoint opens.
 */
export function healthMinimumWarning(primary: object, workers: number, at: 'scale' | 'start'): ReadinessUnreachableError | undefined {
  const short = [...(minima.get(primary) ?? [])].filter((minimum) => workers < minimum.minReady);
  if (short.length === 0) return undefined;
  const highest = short.reduce((a, b) => (b.minReady > a.minReady ? b : a));
  const count = `${workers} worker${workers === 1 ? '' : 's'}`;
  const what = at === 'scale' ? `Scaled to ${count}` : `The cluster runs ${count}`;
  const rest = at === 'scale' ? `scale to ${highest.minReady} or more, or lower the minimum` : `run ${plural(highest.minReady, 'worker')} or more, or lower the minimum`;
  return new ReadinessUnreachableError(
    workers,
    highest.minReady,
    highest.port,
    `${what}, fewer than the ${highest.minReady} ready workers the health endpoint on port ${highest.port} requires (minReady): ` +
      `/readyz answers 503 "${workers} of ${highest.minReady} required workers ready" for as long as that lasts, and Kubernetes keeps the pod out of its Service. To have it ready, ${rest}.`,
  );
}
