/**
 * Help texts: `clusterkit --help`, and `clusterkit <command> --help` for each command, each
 * with examples. The first line of each is its usage, printed again after a usage error.
 */

export const kCommandNames = ['run', 'status', 'show', 'describe', 'list', 'reload', 'stop', 'scale', 'logs', 'dashboard'] as const;
export type CommandName = (typeof kCommandNames)[number];

const kTop = `Usage: clusterkit <command> [options]

Run any Node.js server on all cores, restart it when it crashes, reload it without downtime,
and watch it live. Control commands reach a running cluster by its name, over a local socket
only your user can open.

Commands:
  run <script>        Run a script clustered (one worker per core)
  run [app]           Run the apps of clusterkit.config.ts (or .mjs, .js, .cjs, .json)
  status [name]       Show workers: pid, state, uptime, restarts, memory, event-loop delay
  show <name>         Show the settings in force (timeouts, restarts, memory limit...) and
                      the workers; aliases: describe, info, desc (PM2's)
  list                List the running clusters; aliases: ls, l, ps (PM2's)
  reload <name>       Zero-downtime rolling reload (same as kill -HUP <primary pid>);
                      --update-env applies a changed env
  stop <name>         Graceful stop (same as kill -TERM <primary pid>)
  scale <name> <n>    Grow or shrink to n workers; surplus workers stop gracefully
  logs <name>         The cluster's output: the last lines, then new ones with --follow
  dashboard <name>    Live charts, workers and events in the browser (local web page)

Options:
  -h, --help          Help for clusterkit or a command (clusterkit run --help)
  -v, --version       Print the version

Examples:
  clusterkit run server.js --name api
  clusterkit run                  # every app of clusterkit.config.ts
  clusterkit status api --watch
  clusterkit logs api --follow
  clusterkit reload api
  clusterkit dashboard api --open

Exit codes: 0 done, 1 failed, 2 bad usage (unknown command or option, bad value),
3 stop, reload or scale done, but a worker it stopped cut requests off or did not stop cleanly,
4 no cluster of that name is running (nothing was done).
`;

/** `show` and its alias `describe` (PM2's two names for it). */
const kShowHelp = `Usage: clusterkit show <name> [options]   (aliases, as in PM2: describe, info, desc)

Shows the settings a running cluster has in force, as its primary applies them (defaults
included), then its workers as "clusterkit status" shows them: the script, its arguments and
cwd; the instances at start (and why that count) and now; the exec mode; the Node version and
execArgv; the primary's pid and uptime; the shutdown timeout (PM2's kill_timeout), the ready
timeout (listen_timeout), the gradual drain, the memory limit (max_memory_restart); the restart
policy (backoff, crash-loop limits, stable time); the heartbeat; watch; log files; the health
endpoint; and the names of the environment variables the settings add (never their values).

Options:
      --json              Print JSON instead of text (the status fields, and "settings")
  -h, --help              This help

Examples:
  clusterkit show api
  clusterkit describe api
  clusterkit show api --json | jq '.settings.shutdownTimeoutMs'
`;

const kHelp: Record<CommandName, string> = {
  run: `Usage: clusterkit run [<script> | <app>] [options] [-- script args]

Runs <script> in a cluster: every worker runs it, and the servers it listens on share their
ports. The script needs no clusterkit code. Crashed workers are restarted with backoff;
SIGTERM/SIGINT (Ctrl-C) stop gracefully, draining connections; SIGHUP reloads the workers
one by one without dropping a request; SIGUSR2 reopens the log files (-o, -e, -l), and
without any is logged and ignored (nodemon).
Worker output is prefixed with [name:worker-id], a stderr line with [name:worker-id err].

Without a script, runs the apps of clusterkit.config.{ts,mjs,js,cjs,json} in the current
directory (or --config <file>): each app in its own primary process; one Ctrl-C stops them
all. With <app>, runs that app only. Flags override the file's values. A file named as PM2
names a config (*.config.js, .cjs, .mjs, .ts, or *.json) in place of <script> is that file:
clusterkit run ecosystem.config.js [app] reads it as --config does. A PM2 ecosystem file's
keys are translated (instances, kill_timeout, env_<name> with --env <name>...); each one
clusterkit does without gets a warning line (see docs/config.md).

Options:
  -w, --workers <n|auto>      Number of workers, always honoured; auto (the default) is
                              one per core, or one in development mode
      --max-workers <n>       The most workers it may run, scale included
                              (default: 4 × the CPUs, at least 64)
      --dev                   Development mode: a single worker. Without -w it is on
                              whenever NODE_ENV is not production (the start line says)
  -n, --name <name>           Cluster name for status/reload/stop/scale
                              (default: the script's file name)
      --shutdown-timeout <d>  Time a worker has to stop before it is killed (default: 10s)
      --gradual-drain <d>     A worker replaced by a reload or scale-down releases its
                              keep-alive connections one at a time over this time, so
                              its successor is not hit by all of them at once
                              (default: 1s; 0: all at once). A longer value is shortened
                              to half of the time left to the worker's stop deadline,
                              --shutdown-timeout minus a quarter of it (at most 2s):
                              4s for the default 10s
      --min-ready <d>         A reload's replacement must stay up this long once ready
                              before the worker it replaces is stopped (both serve
                              meanwhile); one that exits within it fails the reload
                              and the old worker keeps serving (Kubernetes'
                              minReadySeconds; default: 0, off)
      --ready-timeout <d>     Time a worker has to start (default: 30s)
      --heartbeat-timeout <d> Time a ready worker may stay silent (its event loop
                              blocked) before it is killed and replaced; more than
                              1s (default: 10s)
      --wait-ready            A worker is ready when its script calls
                              process.send('ready') (PM2's wait_ready), not when it
                              listens; a start or reload waits for it, and connections
                              it is handed before are held until then
      --wait-listen           A worker is ready only once its script listens, even
                              at the first start (a script that listens after an
                              async init); workers started after one listened wait
                              for their listen anyway
      --health-port <port>    Serve /healthz, /readyz and /metrics there (Kubernetes
                              probes, Prometheus); from the primary, on its own port
      --health-host <addr>    The address of --health-port (default: every address)
      --health-min-ready <n>  /readyz answers 200 only while at least n workers are
                              ready (default: 1); more than --workers keeps it at 503
      --max-memory <size>     Replace a worker whose memory stays above this (512M, 1G;
                              at least 64M)
      --cron-restart <expr>   A rolling reload (no downtime) each time this cron
                              expression matches, in local time: '0 3 * * *' (03:00
                              daily); 6 fields: seconds first (PM2's cron_restart)
      --max-restarts <n>      Crashes of one worker slot allowed within --restart-window
                              before it is no longer restarted (default: 10); a worker
                              that served a request is always restarted, after 100 ms
                              doubling with each crash in a row until one stays ready
                              30 s (stableAfter in a config file)
      --restart-window <d>    The window of --max-restarts (default: 60s)
      --startup-window <d>    A worker that dies this soon after ready, before serving a
                              request, failed to start; one that served backs off
                              (PM2's min_uptime; default: 1s, 0: only before ready)
      --max-startup-failures <n>
                              Failed starts in a row after which a slot is no longer
                              restarted (default: 3)
      --node-arg=<arg>        Node option for the workers; repeat it for several
      --log-format <format>   line (default) or json
      --time                  Start each line with its time, on the terminal and in the
                              log files (PM2's --time): 2024-06-10T14:03:05.123+02:00
      --time-format <format>  The time's format, as PM2's --log-date-format (implies
                              --time): YYYY YY MM DD HH hh mm ss SSS Z ZZ A...
      --env <KEY=VALUE>       Environment variable for the workers; repeat it for several
      --env-file <file>       Variables from a dotenv file (KEY=value lines)
      --cwd <dir>             Working directory of the app (default: the current one);
                              a relative <script> is looked for there first, as in PM2
      --watch [path...]       Reload the workers (rolling, no downtime) when a file
                              changes; watches the working directory without a path.
                              node_modules, dot entries and *.log are ignored
      --ignore-watch <path>   Also ignore a name, a path or *.ext; repeat it for several
      --watch-delay <d>       Quiet time after a change before reloading (default: 300ms);
                              files that never go quiet reload after max(1s, 3 × this)
  -o, --output <file>         Also append the lines written to stdout to <file> (PM2's
                              out_file); relative to --cwd, else the current directory
  -e, --error <file>          Also append the lines written to stderr to <file> (error_file)
  -l, --log <file>            Also append both, in order, to <file> (log_file); SIGUSR2
                              to the primary reopens the files (logrotate's postrotate)
  -c, --config <file>         The config file (default: clusterkit.config.* here)
  -h, --help                  This help

Durations: 500ms, 10s, 2m (a bare number is milliseconds), at most 596h (2^31 - 1 ms).
Sizes: 512M, 1G (bare: MiB).

Exit codes: 0 every worker stopped cleanly; 1 a worker did not stop cleanly (it cut off
requests still open at the shutdown timeout, its cleanup timed out or failed, or it was
killed), or the service could not
start, its start was interrupted by a stop signal, or it lost every worker; 2 bad usage; 130 / 143 a second SIGINT / SIGTERM forced the stop.

Examples:
  clusterkit run server.js
  clusterkit run server.js -w 4 --name api --shutdown-timeout 30s --max-memory 512M
  clusterkit run server.ts --node-arg=--import=tsx
  clusterkit run server.js --dev -- --port 8080
  clusterkit run server.js --log-format json | jq .
  clusterkit run server.js --time -o logs/out.log -e logs/err.log
  clusterkit run server.js --env PORT=8080 --env-file .env --cwd /srv/api
  clusterkit run server.js --dev --watch src --ignore-watch uploads
  clusterkit run                 # every app of clusterkit.config.ts
  clusterkit run api -w 2        # the app "api", with 2 workers whatever the file says
  clusterkit run ecosystem.config.js   # the apps of that file, as with -c
`,
  status: `Usage: clusterkit status [name] [options]

Shows each worker of the cluster (or of every running cluster): id, pid, slot, its name and
roles (fork({ name, roles }): columns shown when a worker has them), state, uptime,
restarts (crashes and reload replacements), crashes (unplanned exits alone), memory (RSS and
heap), event-loop delay (mean / p99), CPU and IPC messages in/out (heartbeats included). Figures come from the heartbeat: "-"
until it has measured them. A worker that has not answered it for over two heartbeat
intervals (2 s by default: a blocked event loop) shows "silent 5.2s" as its state, and "-"
for its loop delay and CPU.

Options:
      --json              Print JSON instead of a table
      --watch             Refresh continuously, like pm2 monit (Ctrl-C to quit)
      --interval <d>      Refresh interval of --watch (default: 1s)
  -h, --help              This help

Examples:
  clusterkit status
  clusterkit status api
  clusterkit status api --watch --interval 500ms
  clusterkit status api --json | jq '.workers[].pid'
`,
  show: kShowHelp,
  describe: kShowHelp,
  list: `Usage: clusterkit list [options]   (aliases, as in PM2: ls, l, ps)

Lists the clusters running for your user: name, primary pid, workers, uptime, script.

Options:
      --json              Print JSON instead of a table
  -h, --help              This help

Examples:
  clusterkit list
  clusterkit list --json
`,
  reload: `Usage: clusterkit reload <name> [--update-env]

Replaces every worker, one at a time: each replacement must be ready (and listening) before
the worker it replaces stops gracefully, so no request is lost. If a replacement fails to
start, the reload stops and the remaining workers keep serving; the command then exits 1.
The new workers keep the env the cluster started with, unless --update-env is given.
Progress goes to stderr, one line per slot (slot 0: worker 5 ready, worker 2 stopped (1/4)),
then the wait for the startup window (--startup-window, PM2's min_uptime) that ends a reload;
the result is one line on stdout, or, for a reload that failed, on stderr (clusterkit: reload
failed: ...) with exit 1.

Options:
      --update-env    Load the config file (with the --env <name> of the run) and the
                      --env-file files again, as clusterkit run did, and start the new
                      workers with the env they give now (PM2's --update-env). The line
                      names the variables that changed, never their values. If they no
                      longer load, the reload is refused and nothing changes. Other
                      settings take effect when clusterkit run restarts.

Exit codes: 0 every worker replaced, every old one stopped cleanly; 1 the reload failed;
2 bad usage; 3 reloaded, but an old worker cut requests off or did not stop cleanly (the line
says how many); 4 no cluster of that name is running.

Examples:
  clusterkit reload api
  clusterkit reload api --update-env   # a rotated secret in .env, with no downtime
  kill -HUP <primary pid>        # the same as the first, by signal
`,
  stop: `Usage: clusterkit stop <name>

Stops the cluster gracefully: workers stop taking connections, finish their requests and
exit; a worker still running after the shutdown timeout is killed. Returns once the primary
has exited.

Exit codes: 0 every worker stopped cleanly, or it was already stopped by a stop at most 60 s
ago ("nothing to do"); 1 the stop failed; 2 bad usage; 3 stopped, but a worker cut requests off
or did not stop cleanly (the line says how many); 4 no cluster of that name is running (never
started, stopped longer ago, killed, or a misspelt name: the line names the clusters that run).

Examples:
  clusterkit stop api
  kill -TERM <primary pid>       # the same, by signal
`,
  logs: `Usage: clusterkit logs <name> [options]

Prints the running cluster's output: the last lines its primary keeps (up to 2000), then,
with --follow, new lines as they come, until Ctrl-C or the cluster stops. Worker stdout goes
to stdout, prefixed [api:1]; worker stderr to stderr, marked [api:1 err] (in red on a color
terminal), as "run" prints them, so they stay told apart through a pipe or 2>&1. The primary's
own lines, [api], go to stdout, its warnings and errors to stderr. Control characters in the
output are shown escaped (\\x1b), colors kept on a terminal.
A reader too slow for the output never slows the cluster: lines are dropped for that reader,
and it is told how many.

Options:
  -n, --lines <n>         How many of the last lines to print first (default: 15)
  -f, --follow            Then print new lines as they come
      --worker <id>       Only the lines of this worker (and the primary's about it); a
                          worker id changes at every restart and reload: with --follow, a
                          note says when it was replaced, and by which worker
      --slot <n>          Only the lines of whichever worker serves slot n (0, 1...: the
                          slot column of status), across restarts and reloads; with --follow,
                          a note each time another worker serves it ("-- slot 1 is now
                          served by worker 7 (reload)"), and a slot past the pool is waited
                          for (a scale-up may start it). Not with --worker
      --err               Only what goes to stderr: the workers' stderr, the primary's
                          warnings and errors (PM2's --err); --lines counts those
      --out               Only what goes to stdout (PM2's --out)
      --time              Start each line with the time it was written (as run --time
                          prints it, whether or not the cluster runs with --time)
      --time-format <f>   That time's format (implies --time): YYYY-MM-DD HH:mm:ss Z...
      --json              One JSON object per line: time, workerId, slot, stream (where
                          it was written: the primary's lines all on its stderr), output
                          (where logs prints it, what --out/--err pick), level, msg
  -h, --help              This help

Examples:
  clusterkit logs api
  clusterkit logs api --time --lines 100
  clusterkit logs api --lines 200 --follow
  clusterkit logs api --slot 1 --follow
  clusterkit logs api --err --lines 50
  clusterkit logs api --worker 3 --json | jq -r .msg
`,
  dashboard: `Usage: clusterkit dashboard <name> [options]

Serves a live page of the cluster from this process and prints its URL: per-worker charts of
memory, heap, event-loop delay, CPU and messages per second (the last 10 minutes), the worker
table, and a timeline of forks, exits, restarts, reloads and scaling, marked on the charts.
It reads the cluster over its control socket, like status; nothing is sent to the internet
(the page and its chart library come with clusterkit). Read-only unless --allow-control.

Options:
  -p, --port <n>          Port to listen on (default: 9716, or any free one if that is taken;
                          0 for any free port)
      --host <address>    Address to listen on (default: 127.0.0.1, this machine only)
      --open              Open the page in the default browser
      --allow-control     Add reload and scale buttons, protected by a random token that is
                          part of the printed URL
  -h, --help              This help

Examples:
  clusterkit dashboard api
  clusterkit dashboard api --open --allow-control
  clusterkit dashboard api --port 8080
`,
  scale: `Usage: clusterkit scale <name> <count>

Grows the cluster to <count> workers (returns once the new ones are ready), or shrinks it:
the most recently added workers stop gracefully, finishing their requests.
<count> may be relative, as in PM2, from the current target: +2 adds two workers, -1 stops
one (one that would leave no worker is refused).

Exit codes: 0 done, every stopped worker stopped cleanly; 1 failed;
2 bad usage; 3 scaled down, but a stopped worker cut requests off or did not stop cleanly
(the line says how many); 4 no cluster of that name is running.

Examples:
  clusterkit scale api 8
  clusterkit scale api 2
  clusterkit scale api +1
  clusterkit scale api -1
`,
};

export function helpText(command?: CommandName): string {
  return command ? kHelp[command] : kTop;
}

/** The usage line(s) of a command, for after a usage error. */
export function usageLine(command?: CommandName): string {
  const text = helpText(command);
  return text.slice(0, text.indexOf('\n'));
}

export function isCommandName(name: string): name is CommandName {
  return (kCommandNames as readonly string[]).includes(name);
}

/**
 * PM2's other spellings of a command here, which run it (H262): `pm2 ls` is the PM2 command typed
 * most, and like `describe` these only read. PM2 commands that do something else get a hint instead (pm2-hints.ts).
 */
const kCommandAliases: Readonly<Record<string, CommandName>> = { ls: 'list', l: 'list', ps: 'list', info: 'show', desc: 'show' };

/** The command `typed` runs: its own name, or the command a PM2 alias stands for; undefined for none. */
export function commandOf(typed: string): CommandName | undefined {
  if (isCommandName(typed)) return typed;
  return Object.hasOwn(kCommandAliases, typed) ? kCommandAliases[typed] : undefined;
}
