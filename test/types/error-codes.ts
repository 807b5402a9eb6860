/**
 * Compile-only checks of `ClusterKitErrorCode` (newcomer t78): the union of every error class's
 * code, so a switch over the codes a program handles is checked. Each `@ts-expect-error` line
 * must fail to compile.
 */
import { ClusterKitError, type ClusterKitErrorCode } from '../../src/index.js';

export function describeFailure(error: unknown): string {
  if (!(error instanceof ClusterKitError)) return 'not ours';
  const code = error.code as ClusterKitErrorCode;
  switch (code) {
    case 'ERR_CRASH_LOOP':
      return 'crash loop';
    case 'ERR_WORKER_UNRESPONSIVE':
      return 'hung';
    case 'ERR_MESSAGE_TIMEOUT':
      return 'timeout';
    // @ts-expect-error a code no class has
    case 'ERR_CRASHLOOP':
      return 'misspelt';
    default:
      return code;
  }
}

// A plain string is not one, nor is the base class's `string` in the union.
// @ts-expect-error an arbitrary string
export const notACode: ClusterKitErrorCode = 'whatever';
export const codes: ClusterKitErrorCode[] = ['ERR_INVALID_OPTION', 'ERR_WORKER_CHANNEL_CLOSED', 'ERR_RELOAD_FAILED', 'ERR_RELOAD_INTERRUPTED'];
