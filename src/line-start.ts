/**
 * Whether a worker's stdout or stderr is in the middle of a line, so clusterkit's own line
 * written there starts on a line of its own (H385): a script's `process.stderr.write('partial')`
 * without a newline, then the bootstrap's WARN, made one line `partial...clusterkit: WARN ...`
 * in `run`'s output, `clusterkit logs` and the log files. Only a stream whose writes are tracked
 * (`trackLineEnds`, the bootstrap of `clusterkit run` tracks process.stdout and process.stderr)
 * is known to be mid-line; bytes written around the stream (`fs.writeSync(2, ...)`) are not seen.
 */
const kMidLine = Symbol('clusterkit.midLine');

interface Writable {
  write(chunk: string): unknown;
}

type Tracked = { [kMidLine]?: boolean };

/** Tracks whether `stream` (process.stdout or process.stderr) was left mid-line by its last write. */
export function trackLineEnds(stream: NodeJS.WriteStream): void {
  const tracked = stream as unknown as Tracked;
  if (tracked[kMidLine] !== undefined) return;
  tracked[kMidLine] = false;
  const write = stream.write as (...args: unknown[]) => boolean;
  stream.write = function trackedWrite(this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    const midLine = isMidLineAfter(chunk, rest[0]);
    if (midLine !== undefined) tracked[kMidLine] = midLine;
    return Reflect.apply(write, this, [chunk, ...rest]) as boolean;
  } as typeof stream.write;
}

/** Whether `chunk` ends mid-line; undefined when it is empty (or not bytes), which changes nothing. */
function isMidLineAfter(chunk: unknown, encoding: unknown): boolean | undefined {
  if (typeof chunk === 'string') {
    if (chunk.length === 0) return undefined;
    // hex or base64 text is not the bytes it writes.
    if (typeof encoding === 'string' && /^(hex|base64|base64url)$/i.test(encoding)) return isMidLineAfter(Buffer.from(chunk, encoding as BufferEncoding), undefined);
    return !chunk.endsWith('\n');
  }
  if (chunk instanceof Uint8Array) return chunk.length === 0 ? undefined : chunk[chunk.length - 1] !== 0x0a;
  return undefined;
}

/**
 * Writes `text` (whole lines, ending with a newline) to `stream`, after a newline when the
 * stream is tracked and mid-line: clusterkit's line never continues the script's.
 */
export function writeOwnLine(stream: Writable, text: string): unknown {
  return stream.write((stream as Tracked)[kMidLine] === true ? `\n${text}` : text);
}
