/** What every commander-based berth command shares: the program's setup, exit codes, signals. */
import { Command, type CommanderError } from 'commander';
import type { GlobalOptions } from './context.js';
import { isBerthError } from '../lib/errors.js';
import { errorText, exitCodeFor, failureFor, PROG, UsageError } from './exit.js';
import { commandPath, usageLine } from './usage.js';

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

/** How eachName reports. */
export interface EachOptions {
  /** Called when one is done (default: prints the name). */
  done?: (name: string) => void;
  /** An error that is printed but does not fail the command (docker rm -f of a missing container). */
  tolerated?: (e: unknown) => boolean;
  /** The line the docker CLI adds after the errors: "Error: failed to start containers: a, b". */
  summary?: (failed: string[]) => string;
}

/**
 * Does `f` for each name, printing the name when done, or the error (and going on with the
 * next); then fails (exit 1) if any did, as docker rm, rmi, stop, kill, network rm.
 */
export async function eachName(names: string[], f: (name: string) => Promise<unknown> | unknown, o: EachOptions = {}): Promise<void> {
  let failed: unknown;
  const failedNames: string[] = [];
  for (const n of names) {
    try {
      await f(n);
      (o.done ?? ((x: string) => void process.stdout.write(x + '\n')))(n);
    } catch (e) {
      process.stderr.write(`${errorText(e)}\n`);
      if (o.tolerated?.(e)) continue;
      failed = e;
      failedNames.push(n);
    }
  }
  if (failed === undefined) return;
  if (o.summary) process.stderr.write(`${o.summary(failedNames)}\n`);
  throw new ExitCode(exitCodeFor(failed));
}

/** Docker's -f: a name that is not there is said, but is not a failure. */
export const notFoundTolerated = (force: boolean) => (e: unknown) => force && isBerthError(e, 'NotFound');

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
  return new Command(PROG)
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} });
}

/** Every command of the program, itself first. */
function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap((s) => allCommands(s))];
}

/** Docker's word for a number of arguments: "1 argument", "2 arguments". */
const nArgs = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;

/**
 * A commander parse error of `cmd` as the docker CLI words it: a flag, a wrong number of
 * arguments or an unknown subcommand, with the command's usage line (cli/exit.ts gives the code). `argv`: what
 * was typed (for the flag as the user wrote it).
 */
export function usageError(cmd: Command, err: CommanderError, argv: string[]): UsageError | undefined {
  const path = commandPath(cmd);
  const usage = `Usage:  ${usageLine(path, cmd)}`;
  const help = (verb: string) => `${verb} '${[PROG, path, '--help'].filter(Boolean).join(' ')}' for more information`;
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  const flag = (text: string) => new UsageError(`${text}\n\n${usage}\n\n${help('Run')}`, 'flag');
  switch (err.code) {
    case 'commander.unknownOption': {
      const f = quoted.split('=')[0]!;
      return flag(f.startsWith('--') ? `unknown flag: ${f}` : `unknown shorthand flag: '${f.slice(1, 2)}' in ${f}`);
    }
    case 'commander.optionMissingArgument': {
      const opt = cmd.options.find((o) => quoted.startsWith(o.flags));
      const typed = [...argv].reverse().find((a) => a === opt?.short || a === opt?.long || (opt?.short !== undefined && a.startsWith('-') && !a.startsWith('--') && a.endsWith(opt.short.slice(1))));
      if (typed === undefined || typed.startsWith('--')) return flag(`flag needs an argument: ${typed ?? opt?.long ?? quoted}`);
      return flag(`flag needs an argument: '${typed.slice(-1)}' in ${typed}`);
    }
    case 'commander.invalidArgument':
    case 'commander.conflictingOption':
    case 'commander.missingMandatoryOptionValue':
      return flag(err.message.replace(/^error: /, ''));
    case 'commander.unknownCommand':
      return new UsageError(`${PROG}: unknown command: ${[PROG, path, quoted].filter(Boolean).join(' ')}\n\n${usage}\n\n${help('Run')}`, 'command');
    case 'commander.missingArgument':
    case 'commander.excessArguments': {
      const args = cmd.registeredArguments;
      const min = args.filter((a) => a.required).length;
      const max = args.some((a) => a.variadic) ? Infinity : args.length;
      const what = `'${[PROG, path].join(' ')}'`;
      // Docker's words (and its "SRun" after "at most", a slip of the docker 28 CLI kept as it prints).
      const text =
        max === 0 ? `accepts no arguments\n\n${usage}\n\n${help('Run')}`
        : min === max ? `requires ${nArgs(min)}\n\n${usage}\n\n${help('Run')}`
        : max === Infinity ? `requires at least ${nArgs(min)}\n\n${usage}\n\n${help('See')}`
        : min === 0 ? `requires at most ${nArgs(max)}\n\n${usage}\n\nS${help('Run')}`
        : `requires at least ${min} and at most ${nArgs(max)}\n\n${usage}\n\n${help('Run')}`;
      return new UsageError(`${PROG}: ${what} ${text}`, 'arguments');
    }
    case 'commander.helpDisplayed':
    case 'commander.help':
    case 'commander.version':
      return undefined;
    default:
      // Any other parse error of commander's is about the flags.
      return flag(err.message.replace(/^error: /, ''));
  }
}

/**
 * Parses and runs; prints an error as Docker does and returns the exit code: 0, an ExitCode's,
 * 0 for --help, else what cli/exit.ts says for this command and error.
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  let path = '';
  program.hook('preAction', (_this, action) => {
    path = commandPath(action);
  });
  for (const c of allCommands(program)) {
    c.exitOverride((err) => {
      throw usageError(c, err, argv) ?? err;
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    const code = (e as { code?: unknown }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') return 0;
    const f = failureFor(path, e);
    (f.stdout ? process.stdout : process.stderr).write(`${f.text}\n`);
    return f.code;
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
