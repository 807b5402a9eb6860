/**
 * Whether `Error.stackTraceLimit` and `Error.prepareStackTrace` can be set for a moment (a stack
 * read of our own, a cheaper error). Not under `node --frozen-intrinsics` (hostile t66, H662):
 * `Error` is frozen there, and setting them threw in clusterkit's own worker code, so every
 * worker of `clusterkit run --node-arg=--frozen-intrinsics` died at its start. Where they cannot
 * be set, the callers go without (no stack read, the default limit).
 */
export function canSetStackSettings(): boolean {
  return isWritable('stackTraceLimit') && isWritable('prepareStackTrace');
}

function isWritable(key: 'stackTraceLimit' | 'prepareStackTrace'): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(Error, key);
  if (descriptor === undefined) return Object.isExtensible(Error);
  return descriptor.writable === true || descriptor.set !== undefined;
}

/**
 * The frames above `callee` read from a stack's text, where `Error.prepareStackTrace` cannot be
 * set (frozen): each frame's file (`node:internal/child_process`, `file:///app/x.js`) and
 * function name, as many as `Error.stackTraceLimit` allows (`isCut` when it ran out).
 */
export function framesFromStackText(callee: (...args: never[]) => unknown): { frames: Array<{ file: string | undefined; name: string | undefined }>; isCut: boolean } {
  const holder: { stack?: unknown } = {};
  Error.captureStackTrace(holder, callee);
  const lines = typeof holder.stack === 'string' ? holder.stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  const frames = lines.map((line) => {
    // `    at name (file:line:column)`, `    at file:line:column`, `    at async name (file:...)`.
    const match = /^\s+at (?:async )?(?:(.*?) \((.*)\)|(.*))$/.exec(line);
    const location = match?.[2] ?? match?.[3];
    const file = location?.replace(/:\d+:\d+$/, '').replace(/:\d+$/, '');
    return { file: file === '' || file === 'native' ? undefined : file, name: match?.[1]?.replace(/^.*\./, '') };
  });
  return { frames, isCut: frames.length >= Error.stackTraceLimit };
}
