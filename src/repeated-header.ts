/**
 * Headers a request must carry at most once. Node keeps only the first `Host` or
 * `Authorization` in `request.headers` and joins repeated `Origin`s with ", ": a check of
 * `request.headers` would pass a request that a proxy in front (or a browser's own view) reads
 * by its other copy. Such a request is ambiguous, and refused (400) before any check.
 */
import type { IncomingMessage } from 'node:http';

/**
 * The first of `names` (as given, such as `Host`) that `request` carries more than once, or
 * undefined. Counted in `rawHeaders`, which keeps every copy, case-insensitively.
 */
export function repeatedHeader(request: Pick<IncomingMessage, 'rawHeaders'>, names: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return names.find((name) => (counts.get(name.toLowerCase()) ?? 0) > 1);
}
