/** A byte count for messages: `512 B`, `12.5 KiB`, `3.0 MiB` (`decimals` places for KiB and MiB; 1 by default). */
export function formatBytes(bytes: number, decimals = 1): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(decimals)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(decimals)} KiB`;
  return `${bytes} B`;
}

/**
 * Two byte counts compared in one message, in `formatBytes`' units both: with one decimal
 * place, or as many more (up to 7, below a byte in MiB) as it takes for different counts not
 * to read alike: `about 1.05 MiB, over the 1.00 MiB limit`, never `about 1.0 MiB, over the
 * 1.0 MiB limit`. (Before, such a pair was given in bytes, so one error read `1100002 B` or
 * `1.1 MiB` depending on the payload: F7.)
 */
export function formatBytesApart(first: number, second: number): [string, string] {
  for (let decimals = 1; ; decimals++) {
    const pair: [string, string] = [formatBytes(first, decimals), formatBytes(second, decimals)];
    if (pair[0] !== pair[1] || first === second || decimals >= 7) return pair;
  }
}
