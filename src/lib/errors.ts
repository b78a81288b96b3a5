/**
 * berth's one error type. Every layer below the CLI throws BerthError with a kind from a fixed set;
 * the CLI maps kinds to exit codes in one place (cli/exit.ts).
 */
export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'Conflict'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'Internal';

export interface ErrorOptions {
  cause?: unknown;
  /** An exit code the error asks for, when it stands for a container's own failure (126, 127, ...). */
  exitCode?: number;
}

export class BerthError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: number | undefined;
  constructor(kind: ErrorKind, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BerthError';
    this.kind = kind;
    this.exitCode = opts.exitCode;
  }
}

export const notFound = (msg: string, opts?: ErrorOptions) => new BerthError('NotFound', msg, opts);
export const alreadyExists = (msg: string, opts?: ErrorOptions) => new BerthError('AlreadyExists', msg, opts);
export const invalidArgument = (msg: string, opts?: ErrorOptions) => new BerthError('InvalidArgument', msg, opts);
export const conflict = (msg: string, opts?: ErrorOptions) => new BerthError('Conflict', msg, opts);
export const failedPrecondition = (msg: string, opts?: ErrorOptions) =>
  new BerthError('FailedPrecondition', msg, opts);
export const unavailable = (msg: string, opts?: ErrorOptions) => new BerthError('Unavailable', msg, opts);
export const internal = (msg: string, opts?: ErrorOptions) => new BerthError('Internal', msg, opts);

export function isBerthError(e: unknown, kind?: ErrorKind): e is BerthError {
  return e instanceof BerthError && (kind === undefined || e.kind === kind);
}

/** The errno code of a Node system error (ENOENT, EEXIST, ...), or undefined. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

/** A short reason for any thrown value, for the part of a message after the colon. */
export function reason(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
