/** `run` and `create` (and `container run`): Docker's flags → a ContainerCreateRequest → the engine. */
import type { Command } from 'commander';
import { mark } from '../lib/timing.js';
import { checkPullPolicy, containerFlags, containerRequestFromFlags, type ContainerFlags } from './container-request.js';
import { engine, type GlobalOptions } from './context.js';
import { ExitCode, forwardSignals, runDefined } from './program.js';
import { processStdio } from './attach.js';

/** `run` (also `container run`): in the foreground, its exit code ours; or detached (-d). */
export const runCommand = (cmd: Command, g: GlobalOptions) =>
  containerFlags(cmd.description('run a command in a new container'))
    .option('-d, --detach', 'run in the background and print the container id')
    .action(async (image: string, command: string[], o: ContainerFlags) => {
      mark('cli: run action');
      checkPullPolicy(image, o);
      const { containers } = await engine(g);
      const req = containerRequestFromFlags(image, command, o);
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
        });
        if (o.detach) {
          process.stdout.write(r.id + '\n');
          return;
        }
        throw new ExitCode(r.code);
      } finally {
        io?.restore();
        stopForwarding();
      }
    });

export const createCommand = (cmd: Command, g: GlobalOptions) =>
  containerFlags(cmd.description('create a container without starting it')).action(async (image: string, command: string[], o: ContainerFlags) => {
    checkPullPolicy(image, o);
    const { containers } = await engine(g);
    const req = containerRequestFromFlags(image, command, o);
    process.stdout.write((await containers.create(req)).Id + '\n');
  });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { run: runCommand, create: createCommand });
}
