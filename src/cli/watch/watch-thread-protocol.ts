/**
 * What the watch's thread (watch-thread-main.ts) and the primary's thread (watch-thread.ts) say to
 * each other (H652). Paths are absolute.
 */

/** What the thread is started with. */
export interface WatchThreadData {
  readonly roots: readonly string[];
  /** `--ignore-watch` patterns, as `createIgnoreTest` takes them, with the working directory. */
  readonly ignore: readonly string[];
  readonly cwd: string;
  readonly keep?: readonly string[] | undefined;
  readonly limits?: { readonly maxDirectoryEntries?: number; readonly maxEntries?: number; readonly recrawlPaths?: number } | undefined;
}

/** From the primary's thread. */
export type ThreadRequest = { readonly kind: 'check'; readonly id: number };

/** From the watch's thread. */
export type ThreadMessage =
  | { readonly kind: 'ready'; readonly files: string[]; readonly missing: string[] }
  | { readonly kind: 'changes'; readonly changes: Array<[string, string]> }
  | { readonly kind: 'lost' | 'back' | 'replaced'; readonly roots: string[] }
  | { readonly kind: 'error'; readonly message: string; readonly code?: string | undefined }
  | { readonly kind: 'limited'; readonly directories: string[]; readonly full: string[] }
  | { readonly kind: 'checked'; readonly id: number; readonly error?: string }
  | { readonly kind: 'recrawled'; readonly changes: number }
  | { readonly kind: 'roomy' };
