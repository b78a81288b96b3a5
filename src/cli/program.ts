/** What every commander-based berth command shares: the program's setup, exit codes, signals. */
import { Command } from 'commander';
import { exitCodeFor } from './exit.js';

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
