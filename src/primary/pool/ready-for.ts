import { formatUptime } from '../../duration.js';

/**
 * How long it was ready as its exit was seen: `12.0 s after it became ready`, or when a stall of
 * the primary's own hid when it died (H486), `at least 27.5 s after it became ready (its exit was
 * seen only after the primary's own 4.0 s stall)`.
 */
export function readyFor(readyMs: number, unseenMs: number | undefined): string {
  return unseenMs ? `at least ${formatUptime(readyMs)} after it became ready (its exit was seen only after the primary's own ${formatUptime(unseenMs)} stall)` : `${formatUptime(readyMs)} after it became ready`;
}
