/**
 * A container's life cycle: `start` (attached with -a/-i: in the foreground, its exit code ours),
 * `stop`, `kill`, `wait`, `restart`, `pause`, `unpause` (stop, kill and wait also under
 * `container`).
 */
import { processStdio } from './attach.js';
import type { Command } from 'commander';
import type { Containers } from '../engine/index.js';
import { invalidArgument } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { eachName, ExitCode, forwardSignals, runDefined } from './program.js';

const out = (s: string) => void process.stdout.write(s);

export const startCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('start stopped containers')
    .argument('<container...>')
    .option('-a, --attach', "attach to the container's output (and wait for it)")
    .option('-i, --interactive', "attach the container's stdin")
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      if (!o.attach && !o.interactive) {
        await eachName(names, (n) => containers.start(n), { summary: (failed) => `Error: failed to start containers: ${failed.join(', ')}` });
        return;
      }
      if (names.length > 1) throw cliError('InvalidArgument', 'you cannot start and attach multiple containers at once');
      // Attached: in the foreground of this process (as `run` without -d), its exit code ours.
      let pid = 0;
      const stopForwarding = forwardSignals(() => pid);
      const tty = containers.find(names[0]!).Tty === true;
      const io = processStdio({ stdin: o.interactive === true || tty, tty });
      try {
        const r = await containers.start(names[0]!, { attach: true, stdio: io.stdio, onStart: (p) => (pid = p) });
        throw new ExitCode(r.code);
      } finally {
        io.restore();
        stopForwarding();
      }
    });

export const stopCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('stop running containers: the stop signal, then SIGKILL after the timeout')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing', '10')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      await eachName(names, (n) => containers.stop(n, Number(o.time)));
    });

export const killCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('send a signal to running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'signal', 'KILL')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const { parseSignal } = await import('./signals.js');
      let signal: number;
      try {
        signal = parseSignal(o.signal);
      } catch {
        // dockerd parses the signal: its answer.
        throw invalidArgument(`Invalid signal: ${o.signal}`);
      }
      await eachName(names, (n) => containers.kill(n, signal));
    });

export const waitCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('wait until containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (names: string[]) => {
      const { containers } = await engine(g);
      for (const n of names) out(`${await containers.wait(n)}\n`);
    });

const restartCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('restart containers: stop (the stop signal, then SIGKILL after the timeout), then start')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const time = o.time === undefined ? undefined : Number(o.time);
      if (time !== undefined && !Number.isInteger(time)) throw invalidArgument(`invalid argument ${JSON.stringify(o.time)} for "-t, --time" flag: not a whole number of seconds`);
      await eachName(names, (n) => containers.restart(n, time));
    });

/** A command that does one thing to each container named, printing its name. */
const each = (desc: string, f: (c: Containers, n: string) => unknown) => (cmd: Command, g: GlobalOptions) =>
  cmd
    .description(desc)
    .argument('<container...>')
    .action(async (names: string[]) => {
      const { containers } = await engine(g);
      await eachName(names, (n) => f(containers, n));
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, {
    start: startCommand,
    stop: stopCommand,
    kill: killCommand,
    wait: waitCommand,
    restart: restartCommand,
    pause: each('pause every process of containers', (c, n) => c.pause(n)),
    unpause: each('unpause containers', (c, n) => c.unpause(n)),
  });
}
