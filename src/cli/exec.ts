/**
 * `exec` (also `container exec`): a command in a running container, in the foreground; and
 * `attach`: this terminal joined to a detached container's input and output.
 */
import { processStdio } from './attach.js';
import type { Command } from 'commander';
import type { api } from '../engine/index.js';
import { engine, type GlobalOptions } from './context.js';
import { ExecStartFailure, isExecStartError } from './exit.js';
import { collect, ExitCode, forwardSignals, runDefined } from './program.js';

export const execCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('run a command in a running container')
    .passThroughOptions()
    .argument('<container>')
    .argument('<command...>')
    .option('-e, --env <VAR=value>', 'environment variable', collect, [])
    .option('-w, --workdir <dir>', 'working directory')
    .option('-u, --user <uid[:gid]>', 'user')
    .option('-d, --detach', 'run in the background')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a terminal')
    .action(async (name: string, command: string[], o) => {
      const { containers } = await engine(g);
      let pid = 0;
      const stopForwarding = o.detach ? () => {} : forwardSignals(() => pid);
      const tty = o.tty === true && o.detach !== true;
      const io = processStdio({ stdin: o.interactive === true || tty, tty });
      try {
        const config: api.ExecConfig = { Cmd: command, Env: o.env as string[], WorkingDir: o.workdir, User: o.user, Tty: o.tty === true, AttachStdin: o.interactive === true, AttachStdout: o.detach !== true, AttachStderr: o.detach !== true };
        let code: number;
        try {
          code = await containers.exec(name, config, { detach: o.detach === true, stdio: io.stdio, onStart: (p) => (pid = p) });
        } catch (e) {
          throw !o.detach && isExecStartError(e) ? new ExecStartFailure(e) : e;
        }
        throw new ExitCode(code);
      } finally {
        io.restore();
        stopForwarding();
      }
    });

const attachCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("attach this terminal's input and output to a running container")
    .argument('<container>')
    .option('--no-stdin', 'do not attach stdin')
    .option('--detach-keys <keys>', 'the key sequence that detaches', 'ctrl-p,ctrl-q')
    .option('--no-sig-proxy', 'do not pass the signals this process gets to the container')
    .action(async (name: string, o) => {
      const { attachStdio, parseDetachKeys } = await import('./attach.js');
      const detachKeys = parseDetachKeys(o.detachKeys);
      const { containers } = await engine(g);
      const a = await containers.attach(name);
      // Signals to the container, as Docker's --sig-proxy (not with a terminal: keys go through it).
      const stopForwarding = o.sigProxy !== false && !a.tty ? forwardSignals(() => containers.find(a.id).State.Pid) : () => {};
      try {
        const how = await attachStdio(a, { stdin: o.stdin !== false, detachKeys });
        if (how === 'detached') return;
        throw new ExitCode(await containers.wait(a.id));
      } finally {
        stopForwarding();
      }
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { exec: execCommand, attach: attachCommand });
}
