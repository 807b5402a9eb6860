/**
 * A line said once as a config file is loaded, about a value that was used as written but
 * comes out otherwise than its writer may expect (a PM2 `kill_timeout`, a negative
 * `instances`). A warning when the value works against the app (every request cut off, fewer
 * workers than asked); a note otherwise. A flag that replaces the value silences it.
 */
export interface LoadNote {
  readonly text: string;
  readonly isWarning: boolean;
}
