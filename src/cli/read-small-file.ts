/**
 * Reading a small file the CLI is given (an env file, a JSON config) without trusting it to
 * be one: `readFileSync` on `/dev/zero` grows until the process dies (2.7 GB, then bad_alloc),
 * and on a FIFO it blocks until someone writes to it, with no word. Here the file is opened
 * without blocking (O_NONBLOCK: a FIFO with no writer does not hold the open), must be a
 * regular file, and is read up to the limit and not a byte further (a file that grows while
 * it is read is refused too).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { kindOf } from '../file-kind.js';
import { UsageError } from './usage-error.js';

/**
 * The text (UTF-8) of the regular file `path`, at most `maxBytes` long.
 * @param what names the file in messages: `--env-file /srv/.env`.
 * @param fail makes the error (an env file's is an `EnvFileError`); `cause` is the system's error.
 * @throws UsageError naming `what`: the file cannot be opened, is not a regular file (a FIFO,
 * a device, a directory, a socket), is larger than `maxBytes`, or is UTF-16 text (a byte order
 * mark of UTF-16, or a NUL byte).
 */
export function readSmallFile(
  path: string,
  maxBytes: number,
  what: string,
  command = 'run',
  fail: (message: string, cause?: unknown) => UsageError = (message, cause) => new UsageError(message, command, [], cause === undefined ? undefined : { cause }),
): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fail(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw fail(`${what}: ${path} is not a regular file (it is ${kindOf(stats)}); name a file.`);
    const limit = `${what}: ${path} is larger than ${describeBytes(maxBytes)}, the limit for this file.`;
    if (stats.size > maxBytes) throw fail(limit);
    // One byte more than the limit tells a file that grew since fstat from one that did not.
    const buffer = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    while (length <= maxBytes) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) throw fail(limit);
    const utf16 = utf16Evidence(buffer.subarray(0, length));
    // Decoded as UTF-8, UTF-16 text reads as NULs and a U+FFFD or two: the error that followed
    // quoted an unreadable token (t60 LOW). Windows PowerShell 5's `>` writes UTF-16.
    if (utf16 !== undefined) throw fail(notUtf8Message(what, path, utf16));
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw fail(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, error);
  } finally {
    closeSync(fd);
  }
}

/** What says `bytes` are no UTF-8 text: a UTF-16 byte order mark, or NUL bytes in a quarter or more of its first 4 KiB; undefined for neither. */
/** The refusal of a file `evidence` (utf16Evidence's) says is no UTF-8 text. */
export function notUtf8Message(what: string, path: string, evidence: string): string {
  return `${what}: ${path} ${evidence}, not UTF-8 text; save it as UTF-8 (in PowerShell 5, write it with Out-File -Encoding utf8 rather than >).`;
}

export function utf16Evidence(bytes: Buffer): string | undefined {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) return 'is UTF-16 text (it begins with a UTF-16 byte order mark)';
  // Without a mark: UTF-16's ASCII has a NUL every other byte. A stray NUL is left to the
  // parser, which names its line (an env file's "contains a NUL byte", H316).
  const head = bytes.subarray(0, 4096);
  let nuls = 0;
  for (const byte of head) if (byte === 0) nuls++;
  return nuls * 4 < head.length || nuls === 0 ? undefined : `holds NUL bytes (${nuls} of its first ${head.length} bytes): it is UTF-16 text or binary`;
}

function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
