/**
 * The names a new workers' env changes, adds and removes (`reload({ env })`, `reload --update-env`):
 * said apart (LOW, retest t35: an added or removed variable was said "changed"), names only.
 */

/** What the `reload` event and the `--update-env` reply give: `changed` every name that differs, `added` and `removed` among them. */
export interface EnvChanges {
  readonly changed: readonly string[];
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
}

/**
 * `changed: GREETING; added: FLAG; removed: SECRET` (`'log'`), or `GREETING changed; FLAG added;
 * SECRET removed` (`'reply'`): names only, at most 10 of each.
 */
export function describeEnvChanges(env: EnvChanges, style: 'log' | 'reply'): string {
  const added = env.added ?? [];
  const removed = env.removed ?? [];
  const changed = env.changed.filter((name) => !added.includes(name) && !removed.includes(name));
  const shown = (names: readonly string[]) => (names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', '));
  const parts: [string, readonly string[]][] = [
    ['changed', changed],
    ['added', added],
    ['removed', removed],
  ];
  return parts
    .filter(([, names]) => names.length > 0)
    .map(([what, names]) => (style === 'log' ? `${what}: ${shown(names)}` : `${shown(names)} ${what}`))
    .join('; ');
}
