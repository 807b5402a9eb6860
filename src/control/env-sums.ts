/**
 * Short digests of env values (H400): `reload --update-env` answers them for the variables the
 * app's settings files set, so the CLI can name the ones its own shell has with another value
 * (PM2's `--update-env` takes them; clusterkit's does not) without a value on the wire or the
 * terminal.
 */
import { createHash } from 'node:crypto';

/** The digest of one value: 16 hex digits of its SHA-256. */
export function envSum(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** `envSum` of each variable set (undefined ones left out). */
export function envSums(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const sums: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) sums[name] = envSum(value);
  return sums;
}

/** The variables of `sums` that `shell` has with another value, sorted. Another process's answer: strings only. */
export function differingInShell(sums: unknown, shell: Readonly<Record<string, string | undefined>>): string[] {
  if (typeof sums !== 'object' || sums === null || Array.isArray(sums)) return [];
  return Object.entries(sums)
    .filter(([name, sum]) => typeof sum === 'string' && Object.hasOwn(shell, name) && shell[name] !== undefined && envSum(shell[name]) !== sum)
    .map(([name]) => name)
    .sort();
}
