/** `run` and `create` (and `container run`): Docker's flags → a ContainerCreateRequest → the engine. */
import type { Command } from 'commander';
import { mark } from '../lib/timing.js';
import { pullPolicy, containerFlags, containerRequestFromFlags, type ContainerFlags } from './container-request.js';
import { engine, type GlobalOptions } from './context.js';
import { cliSide } from './exit.js';
import { ExitCode, forwardSignals, runDefined } from './program.js';
import { processStdio } from './attach.js';
import { progressPrinter } from './pull.js';

/** `run` (also `container run`): in the foreground, its exit code ours; or detached (-d). */
export const runCommand = (cmd: Command, g: GlobalOptions) =>
  containerFlags(cmd.description('run a command in a new container'))
    .option('-d, --detach', 'run in the background and print the container id')
    .action(async (image: string, command: string[], o: ContainerFlags) => {
      mark('cli: run action');
      const { containers } = await engine(g);
      const req = cliSide(() => ({ ...containerRequestFromFlags(image, command, o), pull: pullPolicy(o) }));
      mark('cli: engine ready');
      let pid = 0;
      const stopForwarding = forwardSignals(() => pid);
      // With -t, stdin goes to the container even without -i (as Docker's).
      const io = o.detach ? undefined : processStdio({ stdin: o.interactive === true || o.tty === true, tty: o.tty === true });
      try {
        const r = await containers.run(req, {
          detach: o.detach === true,
          stdio: io?.stdio,
          onStart: (p) => (pid = p),
          // Detached, the id is printed once it is created, also when its start fails (as docker run -d).
          onCreate: o.detach ? (id) => void process.stdout.write(id + '\n') : undefined,
          onPull: progressPrinter(process.stderr),
        });
        if (o.detach) return;
        throw new ExitCode(r.code);
      } finally {
        io?.restore();
        stopForwarding();
      }
    });

export const createCommand = (cmd: Command, g: GlobalOptions) =>
  containerFlags(cmd.description('create a container without starting it')).action(async (image: string, command: string[], o: ContainerFlags) => {
    const { containers } = await engine(g);
    const req = cliSide(() => ({ ...containerRequestFromFlags(image, command, o), pull: pullPolicy(o) }));
    process.stdout.write((await containers.create(req, { onPull: progressPrinter(process.stderr) })).Id + '\n');
  });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { run: runCommand, create: createCommand });
}
