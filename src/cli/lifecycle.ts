/**
 * A container's life cycle: `start` (attached with -a/-i: in the foreground, its exit code ours),
 * `stop`, `kill`, `wait`, `restart`, `pause`, `unpause` (stop, kill and wait also under
 * `container`).
 */
import { processStdio } from './attach.js';
import { Option, type Command } from 'commander';
import type { Containers } from '../engine/index.js';
import { failedPrecondition, invalidArgument } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { eachName, ExitCode, forwardSignals, runDefined } from './program.js';

const out = (s: string) => void process.stdout.write(s);

/** Docker's int flag: a whole number, or `invalid argument "X" for "-t, --timeout" flag`. */
function intFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** -s/--signal and -t/--timeout (docker 28's; --time as its deprecated spelling) of stop and restart. */
const stopFlags = (cmd: Command) =>
  cmd
    .option('-s, --signal <signal>', 'signal to send to the container (default: its stop signal)')
    .option('-t, --timeout <seconds>', 'seconds to wait before killing the container (default: its stop timeout, 10)')
    .addOption(new Option('--time <seconds>').hideHelp());

const stopOptionsOf = (o: { signal?: string; timeout?: string; time?: string }) => ({
  signal: o.signal,
  timeout: o.timeout !== undefined ? intFlag(o.timeout, '-t, --timeout') : intFlag(o.time, '--time'),
});

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
  stopFlags(cmd.description('stop running containers: the stop signal, then SIGKILL after the timeout').argument('<container...>')).action(async (names: string[], o) => {
    const { containers } = await engine(g);
    const so = stopOptionsOf(o);
    await eachName(names, (n) => containers.stop(n, so));
  });

export const killCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('send a signal to running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'signal (a name or a number)', 'KILL')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      await eachName(names, (n) => containers.kill(n, o.signal as string));
    });

export const waitCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('wait until containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (names: string[]) => {
      const { containers } = await engine(g);
      const codes = new Map<string, number>();
      await eachName(
        names,
        async (n) => codes.set(n, await containers.wait(n)),
        { done: (n) => out(`${codes.get(n)}\n`) },
      );
    });

const restartCommand = (cmd: Command, g: GlobalOptions) =>
  stopFlags(cmd.description('restart containers: stop (the stop signal, then SIGKILL after the timeout), then start').argument('<container...>')).action(async (names: string[], o) => {
    const { containers } = await engine(g);
    const so = stopOptionsOf(o);
    await eachName(names, (n) => containers.restart(n, so));
  });

/** A command that does one thing to each container named, printing its name (going on past failures). */
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
