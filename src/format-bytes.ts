/** A byte count for messages: `512 B`, `12.5 KiB`, `3.0 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * Two byte counts compared in one message: rounded as `formatBytes` does, unless the rounded
 * figures read alike ("about 3.8 MiB, over the 3.8 MiB limit"): then both exactly, in bytes.
 */
export function formatBytesApart(first: number, second: number): [string, string] {
  const [a, b] = [formatBytes(first), formatBytes(second)];
  return a === b ? [`${first} B`, `${second} B`] : [a, b];
}
