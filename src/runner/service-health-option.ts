/**
 * `startClusteredService`'s `health` option: the primary's `/healthz`, `/readyz` and `/metrics`
 * (`listenHealth()`), as `clusterkit run --health-port` opens them. Checked at the call, with
 * the rest of the runner's options, so a bad one rejects before anything starts.
 */
import { InvalidOptionError } from '../errors.js';
import type { HealthOptions } from '../primary/features/listen-health.js';
import { integerOption, knownOptions, stringOption } from '../validate.js';

/** `listenHealth()`'s options the runner takes, under the same names, with the same defaults. */
export type ServiceHealthOptions = Pick<HealthOptions, 'port' | 'host' | 'minReady'>;

/** What a refusal to listen names as the setting to change (service-primary.ts's `flag`). */
export const kHealthPortOption = 'the "health.port" option';

/**
 * `health` checked: undefined when left out. Port 0 listens on any free port (`describe()`'s
 * `settings.health` says which).
 * @throws InvalidOptionError naming `health`, or the first invalid `health.*` key.
 */
export function serviceHealthOption(value: unknown): ServiceHealthOptions | undefined {
  if (value === undefined) return undefined;
  const options = knownOptions(value, ['port', 'host', 'minReady'], 'health', 'health.');
  const { port } = options;
  // Required: the endpoint has no port of its own to fall back on.
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidOptionError('health.port', 'a port number from 0 to 65535 (0: any free port)', port);
  }
  const host = stringOption(options.host, 'health.host');
  // As listenHealth()'s: 0 keeps /readyz up with no worker; more than the workers keeps it at 503.
  const minReady = integerOption(options.minReady, 'health.minReady', 1, { min: 0 });
  return { port, ...(host === undefined ? {} : { host }), minReady };
}
