/**
 * `process.memoryUsage()` that does not abort a worker whose code closed its stdout or stderr.
 *
 * libuv reads the RSS from `/proc/self/stat` through a descriptor it opens and closes at once,
 * and asserts that the one it closes is above 2 (`uv__close: Assertion fd > STDERR_FILENO`).
 * An `open()` gets the lowest free descriptor: in a process whose code ran `fs.closeSync(1)`
 * (old daemon-style scripts close their output) that is 1, and the call aborts the process
 * (SIGABRT). Plain `node` never calls it for such a script; a clusterkit worker does at ready and
 * at each heartbeat, so every worker of the script died before it was ready (hostile t58).
 * Descriptors 0 to 2 found closed are first taken by `/dev/null`, as a daemon reopens them: what
 * the code writes there after closing them goes nowhere, as it meant. The worker does the same
 * before it opens descriptors of its own (its start, the orphan watchdog's thread, whose event
 * loop's descriptors libuv closes the same way: retest t58).
 */
import { closeSync, openSync } from 'node:fs';
import { isOpenDescriptor } from '../is-open-descriptor.js';

export function memoryUsage(): NodeJS.MemoryUsage {
  fillClosedStdio();
  return process.memoryUsage();
}

/** Opens `/dev/null` on each of 0, 1 and 2 that is closed (the lowest free descriptor is the one opened). */
export function fillClosedStdio(): void {
  if (process.platform === 'win32') return;
  for (let fd = 0; fd <= 2; fd++) {
    if (isOpenDescriptor(fd)) continue;
    try {
      const opened = openSync('/dev/null', fd === 0 ? 'r' : 'w');
      // A lower hole was filled first, or another thread took it: keep none it did not mean to.
      if (opened !== fd && opened > 2) closeSync(opened);
    } catch {
      // Out of descriptors, or no /dev/null (a bare container): the call may abort, as before.
    }
  }
}

