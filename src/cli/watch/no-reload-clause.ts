/**
 * What a change of a file read for the settings alone is told with: a `.env`, or a config file
 * the watched tree does not hold, whose change the watch looks at without reloading (H316).
 */
export const kNoReloadClause = 'the workers are not reloaded for it, as they load no code from it';
