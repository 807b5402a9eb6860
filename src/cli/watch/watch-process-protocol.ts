/**
 * What the watch's process (watch-process-main.ts) and the primary (watch-process.ts) say to each
 * other over its IPC channel (H652, H658). Paths are absolute.
 */

/** What the watch's process is started with: its first message. */
export interface WatchProcessData {
  readonly roots: readonly string[];
  /** `--ignore-watch` patterns, as `createIgnoreTest` takes them, with the working directory. */
  readonly ignore: readonly string[];
  readonly cwd: string;
  readonly keep?: readonly string[] | undefined;
  readonly limits?: { readonly maxDirectoryEntries?: number; readonly maxEntries?: number; readonly recrawlPaths?: number } | undefined;
}

/** From the primary. */
export type WatchRequest = { readonly kind: 'start'; readonly data: WatchProcessData } | { readonly kind: 'check'; readonly id: number };

/** From the watch's process. */
export type WatchMessage =
  | { readonly kind: 'ready'; readonly files: string[]; readonly missing: string[] }
  | { readonly kind: 'changes'; readonly changes: Array<[string, string]> }
  | { readonly kind: 'lost' | 'back' | 'replaced'; readonly roots: string[] }
  | { readonly kind: 'error' | 'failed'; readonly message: string; readonly code?: string | undefined }
  | { readonly kind: 'limited'; readonly directories: string[]; readonly full: string[] }
  | { readonly kind: 'checked'; readonly id: number; readonly error?: string }
  | { readonly kind: 'recrawled'; readonly changes: number }
  | { readonly kind: 'roomy' };
