/** A container's file system: `diff`, `commit` (a new image of its changes) and `export`. */
import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { collect, runDefined } from './program.js';

const out = (s: string) => void process.stdout.write(s);

const diffCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("changes to a container's file system (A added, C changed, D deleted)")
    .argument('<container>')
    .action(async (n: string) => {
      for (const c of await (await engine(g)).containers.diff(n)) out(`${c.kind} ${c.path}\n`);
    });

const commitCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("a new image from a container's changes")
    .argument('<container>')
    .argument('[reference]')
    .option('-a, --author <author>', 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('-p, --pause', 'pause the container during commit (default true)', true)
    .option('--no-pause', 'do not pause the container during commit')
    .action(async (n: string, ref: string | undefined, o) => {
      out((await (await engine(g)).containers.commit(n, { ref, changes: o.change as string[], message: o.message, author: o.author, pause: o.pause !== false })) + '\n');
    });

/** Docker's boolean flags take a value after "=": --pause=false is --no-pause. */
function boolFlags(argv: string[], flags: string[]): string[] {
  return argv.map((a) => {
    const m = /^(-[a-z]|--[a-z-]+)=(.*)$/.exec(a);
    if (!m || !flags.includes(m[1]!)) return a;
    const long = m[1]!.startsWith('--') ? m[1]! : `--${flags[flags.indexOf(m[1]!) + 1]!.slice(2)}`;
    return /^(1|t|T|true|TRUE|True)$/.test(m[2]!) ? long : /^(0|f|F|false|FALSE|False)$/.test(m[2]!) ? `--no-${long.slice(2)}` : a;
  });
}

const exportCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("a container's file system as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (n: string, o) => {
      const { containers } = await engine(g);
      if (!o.output && process.stdout.isTTY) throw invalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      await pipeline(await containers.exportFs(n), o.output ? createWriteStream(o.output) : process.stdout);
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  if (argv[0] === 'commit') argv = boolFlags(argv, ['-p', '--pause']);
  return runDefined(argv, g, { diff: diffCommand, commit: commitCommand, export: exportCommand });
}
