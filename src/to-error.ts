/**
 * Any thrown value as an `Error`, for the places that report or emit it: an Error is kept as
 * it is; anything else (a string, a number, `null`) is wrapped, with `what` saying where it was
 * thrown (`Handler for notification "x" threw 42`) when given.
 */
export function toError(value: unknown, what?: string): Error {
  if (value instanceof Error) return value;
  return new Error(what === undefined ? String(value) : `${what} threw ${String(value)}`);
}
