/**
 * `container SUBCOMMAND`: Docker's management command, the same commands as at the top (ls is
 * ps, ...) and the hidden ones a container's monitor runs. Only the module of the subcommand
 * typed is loaded; help (or a subcommand that is not there) defines them all.
 */
import type { Command } from 'commander';
import { engine, type GlobalOptions } from './context.js';
import { newProgram, runProgram, type Define } from './program.js';

const healthcheck: Define = (cmd, g) =>
  cmd
    .description("run by a container's monitor every health interval")
    .argument('<container>')
    .action(async (n: string) => (await engine(g)).containers.healthcheck(n));

const cleanup: Define = (cmd, g) =>
  cmd
    .description("run by a container's monitor when it ended: the restart policy")
    .argument('<container>')
    .argument('[net-token]', 'which start it cleans up after (a later start is left alone)')
    .action(async (n: string, token: string | undefined) => (await engine(g)).containers.cleanup(n, token));

interface Subcommand {
  name: string;
  aliases?: string[];
  hidden?: boolean;
  define: () => Promise<Define>;
}

const SUBCOMMANDS: Subcommand[] = [
  { name: 'run', define: async () => (await import('./run.js')).runCommand },
  { name: 'ls', aliases: ['list', 'ps'], define: async () => (await import('./ps.js')).psCommand },
  { name: 'rm', aliases: ['remove'], define: async () => (await import('./rm.js')).rmCommand },
  { name: 'healthcheck', hidden: true, define: async () => healthcheck },
  { name: 'cleanup', hidden: true, define: async () => cleanup },
  { name: 'prune', define: async () => (await import('./rm.js')).pruneCommand },
  { name: 'logs', define: async () => (await import('./logs.js')).logsCommand },
  { name: 'stop', define: async () => (await import('./lifecycle.js')).stopCommand },
  { name: 'kill', define: async () => (await import('./lifecycle.js')).killCommand },
  { name: 'wait', define: async () => (await import('./lifecycle.js')).waitCommand },
  { name: 'exec', define: async () => (await import('./exec.js')).execCommand },
  { name: 'inspect', define: async () => (await import('./inspect.js')).containerInspectCommand },
];

export async function run(argv: string[], g: GlobalOptions): Promise<number> {
  const program = newProgram();
  const container = program.command('container').description('manage containers');
  const typed = SUBCOMMANDS.filter((s) => s.name === argv[1] || s.aliases?.includes(argv[1] ?? ''));
  for (const s of typed.length ? typed : SUBCOMMANDS) {
    const define = await s.define();
    define(container.command(s.name, { hidden: s.hidden === true }).aliases(s.aliases ?? []), g);
  }
  return runProgram(program, argv);
}
