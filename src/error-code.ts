/**
 * `ClusterKitErrorCode`: every `code` a clusterkit error class has, as one union of string
 * literals, so a `switch (error.code)` over the codes a program handles is checked by the
 * compiler (a misspelt code is an error). Newcomer t78: `ClusterKitError.code` is a `string`,
 * and no union was exported. Built from the classes themselves, so it cannot drift from them.
 */
import type * as errors from './errors.js';

type ErrorModule = typeof errors;

/** The literal `code` of an error class's instances; never for the base's plain `string`. */
type CodeOf<T> = T extends abstract new (...args: never[]) => infer Instance
  ? Instance extends { readonly code: infer Code extends string }
    ? string extends Code
      ? never
      : Code
    : never
  : never;

/**
 * Every documented error code (docs/errors.md), such as `'ERR_CRASH_LOOP'`. Narrow a caught
 * error first: `if (error instanceof ClusterKitError) switch (error.code as ClusterKitErrorCode)`.
 */
export type ClusterKitErrorCode = { [Name in keyof ErrorModule]: CodeOf<ErrorModule[Name]> }[keyof ErrorModule];
