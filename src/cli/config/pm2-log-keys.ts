/**
 * PM2's keys of log files (and their aliases, lib/API/schema.json). clusterkit keeps no log
 * files: the config loader warns of each, and `clusterkit show` names them on its `log files`
 * row rather than a bare "none" (H243).
 */
export const kPm2LogKeys: readonly string[] = ['out_file', 'out', 'output', 'out_log', 'error_file', 'error', 'err', 'err_file', 'err_log', 'log_file', 'log', 'merge_logs', 'combine_logs', 'disable_logs'];
