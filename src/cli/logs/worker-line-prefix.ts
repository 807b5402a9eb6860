/**
 * The prefix of a worker's line, as `clusterkit run` prints it and `clusterkit logs` replays it
 * (one function, so the two cannot drift apart again: H242). A stderr line is marked in the text,
 * `[api:3 err]`, so the mark survives a pipe, a file or `2>&1` under systemd or docker, where
 * PM2's only mark (a color) is lost; red too on a color terminal.
 */

const kRed = '\x1b[31m';
const kResetColor = '\x1b[39m';

/** `[api:3] ` for a stdout line, `[api:3 err] ` for a stderr one (red when `isColor`). */
export function workerLinePrefix(name: string, workerId: number | undefined, stream: 'stdout' | 'stderr', isColor: boolean): string {
  if (stream === 'stdout') return `[${name}:${workerId}] `;
  const marked = `[${name}:${workerId} err]`;
  return isColor ? `${kRed}${marked}${kResetColor} ` : `${marked} `;
}
