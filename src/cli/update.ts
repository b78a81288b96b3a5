/** `update` (a running container's resources) and `rename`. */
import type { Command } from 'commander';
import { parseRestartPolicy } from '../engine/index.js';
import { failedPrecondition, invalidArgument, reason } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { eachName, runDefined } from './program.js';

const updateCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('change the resources of running containers')
    .argument('<container...>')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--cpus <n>', 'number of CPUs')
    .option('--cpu-shares <n>', 'relative CPU weight')
    .option('--pids-limit <n>', 'pids limit')
    .option('--restart <policy>', 'restart policy: no, always, unless-stopped, on-failure[:max-retries]')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const restart = o.restart !== undefined ? parseRestartPolicy(o.restart) : undefined;
      const req = { memory: o.memory, cpus: o.cpus, cpuShares: o.cpuShares !== undefined ? Number(o.cpuShares) : undefined, pidsLimit: o.pidsLimit !== undefined ? Number(o.pidsLimit) : undefined, restart };
      if (Object.values(req).every((v) => v === undefined)) throw cliError('InvalidArgument', 'you must provide one or more flags when using this command');
      await eachName(names, (n) => containers.update(n, req));
    });

const renameCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (c: string, n: string) => {
      const { containers } = await engine(g);
      await eachName([c], () => containers.rename(c, n), { done: () => {}, summary: () => `Error: failed to rename container named ${c}` });
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { update: updateCommand, rename: renameCommand });
}
