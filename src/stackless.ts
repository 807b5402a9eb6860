import { canSetStackSettings } from './stack-settings.js';

/**
 * Errors made with no stack frames: refusals the primary answers to a worker's request (a relay
 * to no worker, a held relay past its limit, a type nobody handles). Their frames would only show
 * clusterkit's routing, the requester builds its own error from the reply, and capturing and
 * formatting them cost most of a flood's time (hostile t64: 50,000 forged relays to no worker
 * blocked the primary 6 s, two thirds of it in stack traces and their bytes on the wire).
 */
export function stackless<T>(make: () => T): T {
  // Frozen (node --frozen-intrinsics, H662): made with its stack, as any error.
  if (!canSetStackSettings()) return make();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
