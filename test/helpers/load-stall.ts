/**
 * Whether a warning is no `PrimaryBlockedError`: a loaded machine (the under-load suite, two CPU
 * hogs on two cores) stalls the test's own primary now and then, and that report is not what a
 * test that counts its warnings is about (under-load run on 91a58f4: [H623] counted one).
 */
export function isNoStall(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code !== 'ERR_PRIMARY_BLOCKED';
}
