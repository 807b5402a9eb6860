/**
 * Telling a second stop request from a copy of the first. Supervisors may deliver one stop as
 * two signals back to back: coreutils `timeout` sends its signal to the command, then to the
 * command's whole process group, which the command is in (src/timeout.c, `cleanup()`:
 * `send_sig (monitored_pid, sig)` then `send_sig (0, sig)`), so a primary run as
 * `timeout 60 node primary.js` gets SIGTERM twice within microseconds; a terminal's Ctrl-C and
 * a launcher's forwarded signal can meet the same way. Taken as "a second signal", that copy
 * would kill every worker at once.
 *
 * So the same signal again within `kRepeatWindowMs` of the first is the same request. 250 ms
 * is far above the gap between such copies (microseconds; both are usually read in the same
 * event-loop turn), and below a person's deliberate second Ctrl-C, which answers a stop that
 * seems slow: reading the "shutting down" line and reacting takes longer than that. A
 * different signal, or the same one later, forces the stop as before.
 *
 * The time is when a listener runs, not when the signal arrived: libuv's C handler writes only
 * the signal's number to a pipe, and the listeners run when the loop reads it. Signals that
 * arrive while the loop is blocked run back to back once it is free (read as a copy whatever
 * their gap), and a copy read after a busy stretch may look late (read as a second request).
 * Node gives JavaScript no arrival time; docs/supervision.md (Signals) says so (H132).
 */

/** How long after a stop signal the same signal counts as a copy of it, in ms. */
export const kRepeatWindowMs = 250;

/**
 * Returns a function that answers, for each stop signal received, whether it repeats the
 * previous request (the same signal within `windowMs` of that request's first signal).
 */
export function stopSignalRepeats(windowMs = kRepeatWindowMs, now: () => number = () => performance.now()): (signal: NodeJS.Signals) => boolean {
  let request: { signal: NodeJS.Signals; at: number } | undefined;
  return (signal) => {
    const at = now();
    if (request && request.signal === signal && at - request.at < windowMs) return true;
    request = { signal, at };
    return false;
  };
}
