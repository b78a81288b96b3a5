/** What every commander-based berth command shares: the program's setup, exit codes, signals. */
import { Command } from 'commander';
import type { GlobalOptions } from './context.js';
import { exitCodeFor } from './exit.js';

/** A repeatable option's values (commander's reducer). */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Gives a command (made by the caller, named or aliased as it wants) its flags and action. */
export type Define = (cmd: Command, g: GlobalOptions) => unknown;

/**
 * A command module's entry: the command the user typed (argv[0]) is defined on a fresh program,
 * and only that one (defining a command's options costs time at every start), then run.
 */
export function runDefined(argv: string[], g: GlobalOptions, commands: Record<string, Define>): Promise<number> {
  const program = newProgram();
  const only = argv[0] !== undefined && Object.hasOwn(commands, argv[0]) ? commands[argv[0]] : undefined;
  if (only) only(program.command(argv[0]!), g);
  else for (const [name, define] of Object.entries(commands)) define(program.command(name), g);
  return runProgram(program, argv);
}

/**
 * Does `f` for each name, printing the name when done, or the error (and going on with the
 * next); the last error's exit code is the command's (as docker rm, rmi, network rm).
 */
export async function eachName(names: string[], f: (name: string) => Promise<unknown> | unknown, done: (name: string) => void = (n) => void process.stdout.write(n + '\n')): Promise<void> {
  let failed: unknown;
  for (const n of names) {
    try {
      await f(n);
      done(n);
    } catch (e) {
      failed = e;
      process.stderr.write(`berth: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  if (failed) throw new ExitCode(exitCodeFor(failed));
}

/** Asks on stderr, reads a line of stdin: yes or no (docker's prompt of prune commands). */
export async function confirm(what: string): Promise<boolean> {
  process.stderr.write(`WARNING! ${what}\nAre you sure you want to continue? [y/N] `);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return /^y(es)?$/i.test(Buffer.concat(chunks).toString().trim());
}

/** Thrown by an action to end the command with this exit code (a container's, say). */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function newProgram(): Command {
  return new Command('berth').exitOverride().enablePositionalOptions().configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

/**
 * Parses and runs; returns the exit code: 0, an ExitCode's, 0 for --help/--version, 125 for a
 * usage error, else the error's (Docker's: 125 engine, 126/127 from the container's start).
 */
export async function runProgram(program: Command, argv: string[], prefix = 'berth', usageCode = 125, errorCode: (e: unknown) => number = exitCodeFor): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      return code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version' ? 0 : usageCode;
    }
    process.stderr.write(`${prefix}: ${e instanceof Error ? e.message : String(e)}\n`);
    return errorCode(e);
  }
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Sends the signals this process gets to the container's process (once its pid is known). */
export function forwardSignals(pid: () => number): () => void {
  const fwd = (sig: NodeJS.Signals) => {
    const p = pid();
    if (p > 0) {
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    }
  };
  for (const s of FORWARDED) process.on(s, fwd);
  return () => {
    for (const s of FORWARDED) process.off(s, fwd);
  };
}
