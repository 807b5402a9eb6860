/**
 * PM2's keys of log files (and their aliases, lib/API/schema.json). Those that name a file
 * become clusterkit's `outFile`, `errorFile` and `logFile` (pm2-app.ts); `merge_logs` and
 * `combine_logs` are accepted silently (the workers' lines always go to one file, each tagged
 * `[name:id]`); `disable_logs` is warned of. `clusterkit show` tells of all of them on its
 * `log files` row (H243, H314).
 */
export const kPm2LogFileKeys: Readonly<Record<string, 'outFile' | 'errorFile' | 'logFile'>> = {
  out_file: 'outFile',
  out: 'outFile',
  output: 'outFile',
  out_log: 'outFile',
  error_file: 'errorFile',
  error: 'errorFile',
  err: 'errorFile',
  err_file: 'errorFile',
  err_log: 'errorFile',
  log_file: 'logFile',
  log: 'logFile',
};

export const kPm2LogKeys: readonly string[] = [...Object.keys(kPm2LogFileKeys), 'merge_logs', 'combine_logs', 'disable_logs'];
