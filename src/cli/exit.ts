/**
 * The one place that turns an error into what Docker prints and the exit code it ends with.
 *
 * Who decided an error is what its class says: a BerthError thrown by the engine is what
 * dockerd would answer ("Error response from daemon: MESSAGE"); a CliError is what the docker
 * CLI decides itself (its text printed as is: "Error: No such object: x", "open f: no such file
 * or directory"); a UsageError is a flag or argument count the CLI rejects before doing anything.
 * The command then decides the exit code and the frame around the text:
 *   - usage: a bad flag 125, a wrong number of arguments or an unknown command 1;
 *   - `run`: 125, or 126/127 when the container's process could not be executed; every
 *     error as `berth: TEXT` + "Run 'berth run --help' for more information";
 *   - `create`: what the CLI rejects as `run` does (125), what the daemon answers 1;
 *   - `exec`: the process could not be started in the container (an ExecStartFailure): 126
 *     (dockerd's exec code), its words on stdout as the daemon writes them into the stream;
 *     else (also with -d) 1;
 *   - `build`: the build's own code (a failed step 1, a cancelled build 130), else 1;
 *   - every other command: 1.
 */
import { BerthError, errnoCode, type ErrorKind, type ErrorOptions } from '../lib/errors.js';

/** The program's name, where Docker's messages say `docker`. */
export const PROG = 'berth';

/** An error the CLI decides (not the daemon): `message` is Docker's whole text, printed as is. */
export class CliError extends BerthError {
  constructor(kind: ErrorKind, message: string, opts?: ErrorOptions) {
    super(kind, message, opts);
    this.name = 'CliError';
  }
}

export const cliError = (kind: ErrorKind, message: string, opts?: ErrorOptions) => new CliError(kind, message, opts);

/**
 * Runs `f`, the CLI's own part of a command (flags → a request), so that what it throws counts
 * as the CLI's decision, not the daemon's (as docker's flag parsing before any API call).
 */
export function cliSide<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BerthError && !(e instanceof CliError)) throw new CliError(e.kind, e.message, { cause: e, exitCode: e.exitCode });
    if (!(e instanceof BerthError) && errnoCode(e) !== undefined) throw new CliError('InvalidArgument', systemErrorText(e), { cause: e });
    throw e;
  }
}

/** What the CLI's parser rejects: a flag (125), the arguments or an unknown command (1); `text` is Docker's whole message. */
export class UsageError extends Error {
  constructor(
    readonly text: string,
    readonly what: 'flag' | 'arguments' | 'command',
  ) {
    super(text);
    this.name = 'UsageError';
  }
}

/**
 * An attached `exec` whose process could not be started: dockerd writes the reason into the
 * exec's output stream (stdout, a CRLF line) and gives the exec the exit code 126.
 */
export class ExecStartFailure extends Error {
  constructor(readonly error: BerthError) {
    super(error.message, { cause: error });
    this.name = 'ExecStartFailure';
  }
}

/** Whether an error of `exec` is its process's failure to start (not a missing container, ...). */
export const isExecStartError = (e: unknown): e is BerthError => e instanceof BerthError && e.exitCode !== undefined;

/** What a command prints for an error (on stderr, unless `stdout`), and its exit code. */
export interface Failure {
  text: string;
  code: number;
  stdout?: boolean;
}

/** A Node system error as Go prints one: `open /x: no such file or directory`. */
export function systemErrorText(e: unknown): string {
  const x = e as { code?: string; syscall?: string; path?: string; dest?: string; message?: string };
  const msg = String(x.message ?? e);
  // Node: "ENOENT: no such file or directory, open '/x'"; the reason is between the code and the comma.
  const m = /^[A-Z0-9_]+: (.*?), [a-z_]+ /.exec(msg);
  const why = m?.[1] ?? msg;
  if (x.syscall && x.path) return `${x.syscall} ${x.path}: ${why}`;
  return why;
}

/** Docker's command name for the exit code: `container run` is `run`, `image rm` is `rmi`, ... */
function canonical(command: string): string {
  const words = command.split(' ').filter(Boolean);
  if (words[0] === 'container' && words.length > 1) return words[1]!;
  if (words[0] === 'image' && words.length > 1) return words[1] === 'rm' ? 'rmi' : words[1] === 'build' ? 'build' : `image ${words[1]}`;
  if (words[0] === 'builder' && words[1] === 'build') return 'build';
  return words.join(' ');
}

/** The message of any error, with the daemon's prefix where the engine (the daemon) decided it. */
export function errorText(e: unknown): string {
  if (e instanceof UsageError || e instanceof CliError) return e.message;
  if (e instanceof BerthError) return `Error response from daemon: ${e.message}`;
  if (errnoCode(e) !== undefined) return systemErrorText(e);
  return e instanceof Error ? e.message : String(e);
}

/** `command`: the command path as typed (`run`, `container run`, `volume rm`); '' before one is known. */
export function failureFor(command: string, e: unknown): Failure {
  if (e instanceof UsageError) return { text: e.text, code: e.what === 'flag' ? 125 : 1 };
  if (e instanceof ExecStartFailure) return { text: `${e.message}\r`, code: 126, stdout: true };
  const cmd = canonical(command);
  const hint = e instanceof BerthError ? e.exitCode : undefined;
  const text = errorText(e);
  const framed = () => `${PROG}: ${text}\n\nRun '${PROG} ${command} --help' for more information`;
  switch (cmd) {
    case 'run':
      return { text: framed(), code: hint ?? 125 };
    case 'create':
      return e instanceof BerthError && !(e instanceof CliError) ? { text, code: 1 } : { text: framed(), code: 125 };
    case 'build':
    case 'builder build':
      return { text, code: hint ?? 1 };
    default:
      // What the CLI decides itself may ask for its own code (a template's parse error: 64).
      return { text, code: e instanceof CliError && hint !== undefined ? hint : 1 };
  }
}

/** The exit code alone (see failureFor). */
export function exitCodeFor(e: unknown, command = ''): number {
  return failureFor(command, e).code;
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
