/** Container commands, first slice: run (foreground), ps, rm. */
import type { Command } from 'commander';
import { invalidArgument } from '../lib/errors.js';
import { ago } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { exitCodeFor } from './exit.js';
import { renderFormatted, renderTable } from './output.js';
import { ExitCode, forwardSignals, newProgram, runProgram } from './program.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export async function run(argv: string[], g: GlobalOptions): Promise<number> {
  const program = newProgram();
  const out = (s: string) => void process.stdout.write(s);

  const runCmd = (cmd: Command) =>
    cmd
      .description('run a command in a new container')
      .passThroughOptions()
      .argument('<image>')
      .argument('[command...]')
      .option('--rm', 'remove the container when it exits')
      .option('--name <name>', 'name of the container')
      .option('-e, --env <VAR[=value]>', 'environment variable', collect, [])
      .option('-w, --workdir <dir>', 'working directory')
      .option('-u, --user <uid[:gid]>', 'user')
      .option('-h, --hostname <name>', 'hostname')
      .option('--entrypoint <cmd>', 'override the entrypoint')
      .option('-m, --memory <bytes>', 'memory limit (e.g. 64m)')
      .option('--cpus <n>', 'number of CPUs')
      .option('--pids-limit <n>', 'pids limit')
      .option('--network <mode>', 'none or host (bridges are not there yet)', 'none')
      .option('--read-only', 'read-only root file system')
      .option('-i, --interactive', 'keep stdin open')
      .option('-t, --tty', 'allocate a terminal (not there yet)')
      .option('-d, --detach', 'run in the background and print the container id')
      .action(async (image: string, command: string[], o) => {
        if (o.tty) throw invalidArgument('run -t: terminals for containers are not there yet (see README)');
        const { containers } = await engine(g);
        let pid = 0;
        const stopForwarding = forwardSignals(() => pid);
        try {
          const r = await containers.run({
            image,
            command,
            name: o.name,
            rm: o.rm === true,
            detach: o.detach === true,
            env: o.env as string[],
            workdir: o.workdir,
            user: o.user,
            hostname: o.hostname,
            entrypoint: o.entrypoint,
            memory: o.memory,
            cpus: o.cpus,
            pidsLimit: o.pidsLimit !== undefined ? Number(o.pidsLimit) : undefined,
            network: o.network,
            readOnly: o.readOnly === true,
            stdio: [o.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
            onStart: (p) => (pid = p),
          });
          if (o.detach) {
            out(r.id + '\n');
            return;
          }
          throw new ExitCode(r.code);
        } finally {
          stopForwarding();
        }
      });

  const psCmd = (cmd: Command) =>
    cmd
      .description('list containers')
      .option('-a, --all', 'show all containers (default shows just running)')
      .option('-q, --quiet', 'only ids')
      .option('--no-trunc', 'do not truncate')
      .option('--format <format>', 'json or a {{.Field}} template')
      .action(async (o) => {
        const { containers } = await engine(g);
        const list = containers.list().filter((c) => o.all || c.State.Status === 'running');
        const id = (c: { Id: string }) => (o.trunc === false ? c.Id : c.Id.slice(0, 12));
        if (o.quiet) return out(list.map((c) => id(c) + '\n').join(''));
        const rows = list.map((c) => {
          const st = c.State;
          const status = st.Status === 'running' ? `Up ${ago(st.StartedAt).replace(/ ago$/, '')}` : st.Status === 'exited' ? `Exited (${st.ExitCode}) ${ago(st.FinishedAt || c.Created)}` : 'Created';
          const command = JSON.stringify(c.Command.join(' '));
          return { ID: id(c), Image: c.Image, Command: o.trunc === false || command.length <= 22 ? command : command.slice(0, 20) + '…"', CreatedAt: c.Created, RunningFor: ago(c.Created), Status: status, State: st.Status, Ports: '', Names: c.Name };
        });
        if (o.format) return out(renderFormatted(o.format, rows));
        out(renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
      });

  const rmCmd = (cmd: Command) =>
    cmd
      .description('remove containers')
      .argument('<container...>')
      .option('-f, --force', 'kill a running container first')
      .option('-v, --volumes', 'accepted for docker compatibility')
      .action(async (names: string[], o) => {
        const { containers } = await engine(g);
        let failed: Error | undefined;
        for (const n of names) {
          try {
            await containers.remove(n, o.force === true);
            out(n + '\n');
          } catch (e) {
            failed = e as Error;
            process.stderr.write(`berth: ${(e as Error).message}\n`);
          }
        }
        if (failed) throw new ExitCode(exitCodeFor(failed));
      });

  const logsCmd = (cmd: Command) =>
    cmd
      .description("show a container's output")
      .argument('<container>')
      .option('-f, --follow', 'follow the output')
      .option('-n, --tail <n>', 'number of lines from the end ("all")', 'all')
      .option('-t, --timestamps', 'show timestamps')
      .option('--since <time>', 'since a time (RFC 3339, or a duration like 10m)')
      .action(async (name: string, o) => {
        const { containers } = await engine(g);
        const { readLogs } = await import('../engine/index.js');
        const tail = o.tail === 'all' ? undefined : Number(o.tail);
        if (tail !== undefined && !(tail >= 0)) throw invalidArgument(`invalid value for --tail: ${JSON.stringify(o.tail)}`);
        let since: number | undefined;
        if (o.since) {
          const d = /^(\d+)(s|m|h)$/.exec(o.since);
          since = d ? Date.now() - Number(d[1]) * { s: 1e3, m: 6e4, h: 36e5 }[d[2] as 's' | 'm' | 'h'] : Date.parse(o.since);
          if (!Number.isFinite(since)) throw invalidArgument(`invalid value for --since: ${JSON.stringify(o.since)}`);
        }
        for await (const r of readLogs(containers, name, { follow: o.follow === true, tail, since })) {
          const line = (o.timestamps ? `${r.time} ` : '') + r.log;
          (r.stream === 'stderr' ? process.stderr : process.stdout).write(line);
        }
      });
  const stopCmd = (cmd: Command) =>
    cmd
      .description('stop running containers: the stop signal, then SIGKILL after the timeout')
      .argument('<container...>')
      .option('-t, --time <seconds>', 'seconds to wait before killing', '10')
      .action(async (names: string[], o) => {
        const { containers } = await engine(g);
        for (const n of names) {
          await containers.stop(n, Number(o.time));
          out(n + '\n');
        }
      });
  const killCmd = (cmd: Command) =>
    cmd
      .description('send a signal to running containers')
      .argument('<container...>')
      .option('-s, --signal <signal>', 'signal', 'KILL')
      .action(async (names: string[], o) => {
        const { containers } = await engine(g);
        const { parseSignal } = await import('./signals.js');
        for (const n of names) {
          containers.kill(n, parseSignal(o.signal));
          out(n + '\n');
        }
      });
  const waitCmd = (cmd: Command) =>
    cmd
      .description('wait until containers stop, then print their exit codes')
      .argument('<container...>')
      .action(async (names: string[]) => {
        const { containers } = await engine(g);
        for (const n of names) out(`${await containers.wait(n)}\n`);
      });
  const execCmd = (cmd: Command) =>
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
      .option('-t, --tty', 'allocate a terminal (not there yet)')
      .action(async (name: string, command: string[], o) => {
        if (o.tty) throw invalidArgument('exec -t: terminals are not there yet (see README)');
        const { containers } = await engine(g);
        let pid = 0;
        const stopForwarding = o.detach ? () => {} : forwardSignals(() => pid);
        try {
          const code = await containers.exec(name, { command, env: o.env as string[], workdir: o.workdir, user: o.user, detach: o.detach === true, stdio: [o.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'], onStart: (p) => (pid = p) });
          throw new ExitCode(code);
        } finally {
          stopForwarding();
        }
      });
  logsCmd(program.command('logs'));
  stopCmd(program.command('stop'));
  killCmd(program.command('kill'));
  waitCmd(program.command('wait'));
  execCmd(program.command('exec'));
  runCmd(program.command('run'));
  psCmd(program.command('ps'));
  rmCmd(program.command('rm'));
  const container = program.command('container').description('manage containers');
  runCmd(container.command('run'));
  psCmd(container.command('ls').alias('list').alias('ps'));
  rmCmd(container.command('rm').alias('remove'));
  logsCmd(container.command('logs'));
  stopCmd(container.command('stop'));
  killCmd(container.command('kill'));
  waitCmd(container.command('wait'));
  execCmd(container.command('exec'));

  return runProgram(program, argv);
}
