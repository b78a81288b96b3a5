/** `rm` (also `container rm`) and `container prune`. */
import type { Command } from 'commander';
import { engine, type GlobalOptions } from './context.js';
import { eachName, notFoundTolerated, runDefined } from './program.js';

export const rmCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('remove containers')
    .argument('<container...>')
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'also remove its anonymous volumes')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      await eachName(names, (n) => containers.remove(n, o.force === true, o.volumes === true), { tolerated: notFoundTolerated(o.force === true) });
    });

export const pruneCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('remove all stopped containers')
    .option('-f, --force', 'do not ask for confirmation (the only mode yet)')
    .action(async () => {
      const gone = await (await engine(g)).containers.prune();
      process.stdout.write((gone.length ? 'Deleted Containers:\n' + gone.map((id) => id + '\n').join('') + '\n' : '') + 'Total reclaimed space: 0B\n');
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { rm: rmCommand });
}
