/**
 * A millisecond figure as a message says it: whole (H419). Figures computed from others are
 * fractional (a worker's deadline is 3/4 of a timeout less what its stop already took, measured
 * with performance.now()): a warning said "did not exit within 2936.75 ms". Every message that
 * puts a computed figure before " ms" rounds it here; structured log fields keep the exact one.
 */
export function wholeMs(ms: number): number;
/** A figure that may be missing stays missing. */
export function wholeMs(ms: number | undefined): number | undefined;
export function wholeMs(ms: number | undefined): number | undefined {
  return ms === undefined ? ms : Math.round(ms);
}
