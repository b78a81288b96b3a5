import { BerthError, type ErrorKind } from '../lib/errors.js';

/** Docker's exit codes: 125 for an engine error; a container's own failures carry theirs (126, 127). */
export function exitCodeFor(e: unknown): number {
  if (e instanceof BerthError && e.exitCode !== undefined) return e.exitCode;
  return 125;
}

export const KIND_LABEL: Record<ErrorKind, string> = {
  NotFound: 'not found',
  AlreadyExists: 'already exists',
  InvalidArgument: 'invalid argument',
  Conflict: 'conflict',
  FailedPrecondition: 'failed precondition',
  Unavailable: 'unavailable',
  Internal: 'internal error',
};
