/**
 * `clusterkit run` started through npm (`npx clusterkit run`, `npm exec`, `npm run <script>`,
 * `npm start`) under a supervisor: npm runs the command in a shell (`sh -c ...`) and passes a
 * SIGTERM on to that shell only; the shell (dash, Debian's and Ubuntu's sh, which does not exec
 * the command) ends of it without passing it on, npm exits 143, and the clusterkit primary is
 * re-parented and keeps serving, stopped by no one (docs/cli.md, "start the bin, not npx"). In a
 * container whose PID 1 is npm, npm exits 1 instead and the container's end kills the primary and
 * its workers, with no drain. Said once at the start (H307).
 *
 * Not said when npm is clusterkit's own parent (a package.json script `exec clusterkit run ...`,
 * or a sh that execs its command, as bash does): npm then passes the SIGTERM on to clusterkit,
 * waits for it and exits with its code. Nor when stdin is a terminal: Ctrl-C reaches the whole
 * foreground process group, clusterkit included. Linux /proc only: elsewhere, or whenever /proc
 * cannot say, nothing; it never throws.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { isatty } from 'node:tty';
import { statFields } from '../worker/process-table.js';

/** What is read of a process's /proc/<pid>/cmdline: its first words are enough. */
const kCmdlineBytes = 4096;
/** Shells in a row between npm and clusterkit (`npm start` running `sh start.sh`): a few at most. */
const kMaxShells = 4;
const kShells = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'busybox']);
const kNpmScripts = new Set(['npm', 'npx', 'npm-cli.js', 'npx-cli.js']);

export interface NpmParent {
  /** npm's pid. */
  readonly npm: number;
  /** The pid of the shell npm runs clusterkit in. */
  readonly shell: number;
  readonly message: string;
}

/**
 * The warning to log at the start when this process was started by npm through a shell and stdin
 * is not a terminal, or undefined. `what` names what stopping npm would leave running: `this cluster`.
 */
export function npmParentWarning(what: string): NpmParent | undefined {
  try {
    if (process.platform !== 'linux' || isatty(0)) return undefined;
    let shell: { pid: number; name: string } | undefined;
    let pid = process.ppid;
    for (let hop = 0; hop <= kMaxShells && pid > 0; hop++) {
      const args = commandLine(pid);
      if (args === undefined) return undefined;
      const npm = npmCommand(args);
      if (npm !== undefined) {
        // npm's own child: npm passes the SIGTERM on to clusterkit, and waits for it.
        if (shell === undefined) return undefined;
        return {
          npm: pid,
          shell: shell.pid,
          message:
            `started through npm and a shell (pid ${pid}: ${npm}; pid ${shell.pid}: ${shell.name}): npm passes a SIGTERM on to that shell, which ends without passing it on to clusterkit, ` +
            // npm as the PID 1 of a container (CMD ["npm", "start"]): it exits, and the container's end kills the rest.
            (pid === 1
              ? `so stopping npm, this container's PID 1, ends the container, which kills ${what} without a graceful stop`
              : `so stopping npm leaves ${what} running with no one to stop it (in a container: until the container ends, killing every process in it without a graceful stop)` +
                // Newcomer t74 P4, t76: npm and its shell die of a group SIGHUP too, which clusterkit reloads on.
                `; a SIGHUP to npm or to its process group (kill -HUP -<pgid>) ends npm and that shell too, leaving ${what} the same way`) +
            `; under a supervisor or in a container, start node_modules/.bin/clusterkit itself (or exec it from a script); see "start the bin, not npx" in docs/cli.md`,
        };
      }
      const name = shellName(args);
      if (name === undefined) return undefined;
      // The shell nearest npm is the one npm runs and signals.
      shell = { pid, name };
      pid = Number(statFields(pid)?.[1]);
      if (!Number.isInteger(pid)) return undefined;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The arguments of `pid` (from the first 4 KB of its /proc/<pid>/cmdline), or undefined. */
function commandLine(pid: number): string[] | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/cmdline`, 'r');
    const buffer = Buffer.alloc(kCmdlineBytes);
    const length = readSync(fd, buffer, 0, kCmdlineBytes, 0);
    const args = buffer.toString('utf8', 0, length).split('\0');
    while (args.length > 0 && args[args.length - 1] === '') args.pop();
    return args.length === 0 ? undefined : args;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `npm exec`, `npm run serve`, `npx`, `npm`, when `args` are npm's, else undefined. npm sets its
 * process title (`npm exec clusterkit run ...`: one argument of words, the rest blank); before it
 * does, they are `node .../npm-cli.js exec ...`, or `npm exec ...` from its own binary.
 */
function npmCommand(args: readonly string[]): string | undefined {
  const titled = args.length === 1 ? args[0]!.split(' ') : undefined;
  const words = titled ?? args;
  let at = 0;
  if (!kNpmScripts.has(basename(words[0]!))) {
    // `node .../npm-cli.js exec ...`
    if (words.length < 2 || !kNpmScripts.has(basename(words[1]!))) return undefined;
    at = 1;
  }
  if (basename(words[at]!).startsWith('npx')) return 'npx';
  const command = words[at + 1];
  if (command === undefined || !/^[a-z][a-z-]*$/.test(command)) return 'npm';
  const script = words[at + 2];
  return (command === 'run' || command === 'run-script') && script !== undefined && /^[\w:.-]{1,40}$/.test(script) ? `npm ${command} ${script}` : `npm ${command}`;
}

/** `sh`, `bash`, ... when `args` are a shell's (a login shell's `-bash` too), else undefined. */
function shellName(args: readonly string[]): string | undefined {
  const name = basename(args[0]!.split(' ')[0]!).replace(/^-/, '');
  return kShells.has(name) ? name : undefined;
}
