/** Container commands, first slice: run (foreground), ps, rm. */
import type { Command } from 'commander';
import { createWriteStream, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../lib/errors.js';
import { ago } from '../lib/units.js';
import { mark } from '../lib/timing.js';
import { engine, type GlobalOptions } from './context.js';
import { parseMountFlag, positiveDurationNs } from '../engine/index.js';
import { exitCodeFor } from './exit.js';
import { renderFormatted, renderTable } from './output.js';
import { ExitCode, forwardSignals, newProgram, runProgram } from './program.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Go-style durations as docker takes them: 500ms, 30s, 1m30s, 2h. */
function duration(v: string | undefined, flag: string): number | undefined {
  return v === undefined ? undefined : positiveDurationNs(v, flag) / 1e6;
}

/** ps's PORTS: "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp" is Docker's; no ranges here. */
function portsColumn(ports: { hostIp: string; hostPort: number; containerPort: number; proto: string }[] | undefined): string {
  return (ports ?? []).map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ');
}

/** Options of run and create → the engine's ContainerOptions. */
function containerOptions(image: string, command: string[], o: Record<string, unknown>) {
  const num = (v: unknown, flag: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "${flag}" flag`);
    return n;
  };
  const mounts = ((o.mount as string[] | undefined) ?? []).map(parseMountFlag);
  return {
    image,
    command,
    name: o.name as string | undefined,
    env: o.env as string[],
    envFile: o.envFile as string[],
    workdir: o.workdir as string | undefined,
    user: o.user as string | undefined,
    hostname: o.hostname as string | undefined,
    entrypoint: o.entrypoint as string | undefined,
    labels: o.label as string[],
    volumes: [...((o.volume as string[] | undefined) ?? []), ...mounts.flatMap((m) => ('volume' in m ? [m.volume] : []))],
    tmpfs: [...((o.tmpfs as string[] | undefined) ?? []), ...mounts.flatMap((m) => ('tmpfs' in m ? [m.tmpfs] : []))],
    memory: o.memory as string | undefined,
    memorySwap: o.memorySwap as string | undefined,
    cpus: o.cpus as string | undefined,
    cpuShares: num(o.cpuShares, '--cpu-shares'),
    cpusetCpus: o.cpusetCpus as string | undefined,
    pidsLimit: num(o.pidsLimit, '--pids-limit'),
    ulimits: o.ulimit as string[],
    capAdd: o.capAdd as string[],
    capDrop: o.capDrop as string[],
    privileged: o.privileged === true,
    securityOpt: o.securityOpt as string[],
    stopSignal: o.stopSignal as string | undefined,
    stopTimeout: num(o.stopTimeout, '--stop-timeout'),
    network: o.network as string | undefined,
    publish: o.publish as string[] | undefined,
    publishAll: o.publishAll === true,
    dns: o.dns as string[] | undefined,
    dnsSearch: o.dnsSearch as string[] | undefined,
    dnsOption: o.dnsOption as string[] | undefined,
    addHost: o.addHost as string[] | undefined,
    networkAlias: o.networkAlias as string[] | undefined,
    ip: o.ip as string | undefined,
    macAddress: o.macAddress as string | undefined,
    link: o.link as string[] | undefined,
    userns: o.userns as string | undefined,
    pid: o.pid as string | undefined,
    ipc: o.ipc as string | undefined,
    uts: o.uts as string | undefined,
    readOnly: o.readOnly === true,
    devices: o.device as string[] | undefined,
    blkioWeight: num(o.blkioWeight, '--blkio-weight'),
    deviceReadBps: o.deviceReadBps as string[] | undefined,
    deviceWriteBps: o.deviceWriteBps as string[] | undefined,
    deviceReadIops: o.deviceReadIops as string[] | undefined,
    deviceWriteIops: o.deviceWriteIops as string[] | undefined,
  };
}

export async function run(argv: string[], g: GlobalOptions): Promise<number> {
  const program = newProgram();
  const out = (s: string) => void process.stdout.write(s);

  /** The flags of `run` and `create` (Docker's `create` takes every flag of `run`). */
  const containerFlags = (cmd: Command) =>
    cmd
      .passThroughOptions()
      .argument('<image>')
      .argument('[command...]')
      .option('--rm', 'remove the container when it exits')
      .option('--name <name>', 'name of the container')
      .option('-e, --env <VAR[=value]>', 'environment variable', collect, [])
      .option('--env-file <file>', 'read environment variables from a file', collect, [])
      .option('-w, --workdir <dir>', 'working directory')
      .option('-u, --user <uid[:gid]>', 'user')
      .option('-h, --hostname <name>', 'hostname')
      .option('--entrypoint <cmd>', 'override the entrypoint')
      .option('-l, --label <key=value>', 'label', collect, [])
      .option('-v, --volume <src:dst[:ro]>', 'bind mount a host path (/host:/ctr), a named volume (name:/ctr) or a new anonymous one (/ctr)', collect, [])
      .option('--volumes-from <container[:ro]>', "mount another container's volumes", collect, [])
      .option('--tmpfs <dst[:opts]>', 'mount a tmpfs', collect, [])
      .option('--mount <spec>', 'type=bind|volume|tmpfs,source=..,target=..[,readonly] (as Docker)', collect, [])
      .option('-m, --memory <bytes>', 'memory limit (e.g. 64m)')
      .option('--memory-swap <bytes>', 'memory plus swap limit (-1: unlimited)')
      .option('--cpus <n>', 'number of CPUs')
      .option('--cpu-shares <n>', 'relative CPU weight')
      .option('--cpuset-cpus <list>', 'CPUs to run on (0-3, 0,1)')
      .option('--pids-limit <n>', 'pids limit')
      .option('--ulimit <name=soft[:hard]>', 'resource limit', collect, [])
      .option('--cap-add <cap>', 'add a capability', collect, [])
      .option('--cap-drop <cap>', 'drop a capability', collect, [])
      .option('--privileged', 'all capabilities, no masked paths, all devices')
      .option('--security-opt <opt>', 'no-new-privileges, seccomp=unconfined', collect, [])
      .option('--stop-signal <signal>', 'signal to stop the container')
      .option('--stop-timeout <seconds>', 'seconds before SIGKILL on stop')
      .option('--network <mode>', 'bridge (default), a network\'s name, none, host or container:NAME')
      .option('-p, --publish <[ip:]hostPort:containerPort[/proto]>', 'publish a container port (or range) on the host', collect, [])
      .option('-P, --publish-all', 'publish every EXPOSEd port on a random host port')
      .option('--ip <address>', 'IPv4 address on a user-defined network')
      .option('--mac-address <address>', 'MAC address of the container\'s interface (e.g. 92:d0:c6:0a:29:33)')
      .option('--link <name[:alias]>', 'add a link to another container (legacy): /etc/hosts entry and variables', collect, [])
      .option('--network-alias <name>', 'another name of the container on its network', collect, [])
      .option('--dns <ip>', 'DNS server', collect, [])
      .option('--dns-search <domain>', 'DNS search domain', collect, [])
      .option('--dns-option <opt>', 'resolv.conf option', collect, [])
      .option('--add-host <name:ip>', 'a line in /etc/hosts (host-gateway: the gateway)', collect, [])
      .option('--pid <mode>', 'host or container:NAME')
      .option('--userns <mode>', 'host (default) or remap: root of the container an unprivileged range of the host')
      .option('--ipc <mode>', 'host or container:NAME')
      .option('--uts <mode>', 'host')
      .option('--read-only', 'read-only root file system')
      .option('--init', 'an init as PID 1 that reaps zombies and forwards signals')
      .option('--device <host[:ctr[:rwm]]>', 'a host device in the container', collect, [])
      .option('--blkio-weight <n>', 'block I/O weight (10-1000)')
      .option('--device-read-bps <dev:rate>', 'read rate limit of a device', collect, [])
      .option('--device-write-bps <dev:rate>', 'write rate limit of a device', collect, [])
      .option('--device-read-iops <dev:n>', 'read IO/s limit of a device', collect, [])
      .option('--device-write-iops <dev:n>', 'write IO/s limit of a device', collect, [])
      .option('--restart <policy>', 'no, always, unless-stopped, on-failure[:max-retries]', 'no')
      .option('--health-cmd <command>', 'command to check health (shell form)')
      .option('--health-interval <duration>', 'time between checks (e.g. 30s, 500ms)')
      .option('--health-timeout <duration>', 'longest a check may run')
      .option('--health-retries <n>', 'failures in a row before unhealthy')
      .option('--health-start-period <duration>', 'failures do not count during this start period')
      .option('--no-healthcheck', "turn the image's health check off")
      .option('-i, --interactive', 'keep stdin open')
      .option('-t, --tty', 'allocate a terminal');
  /** What run and create pass to the engine from their common flags. */
  const createOptions = (image: string, command: string[], o: Record<string, unknown>) => ({
    ...containerOptions(image, command, o),
    volumesFrom: o.volumesFrom as string[],
    withInit: o.init === true,
    restart: o.restart as string | undefined,
    health: {
      cmd: o.healthCmd as string | undefined,
      none: o.healthcheck === false,
      intervalMs: duration(o.healthInterval as string | undefined, '--health-interval'),
      timeoutMs: duration(o.healthTimeout as string | undefined, '--health-timeout'),
      retries: o.healthRetries !== undefined ? Number(o.healthRetries) : undefined,
      startPeriodMs: duration(o.healthStartPeriod as string | undefined, '--health-start-period'),
    },
    tty: o.tty === true,
    interactive: o.interactive === true,
  });
  const runCmd = (cmd: Command) =>
    containerFlags(cmd.description('run a command in a new container'))
      .option('-d, --detach', 'run in the background and print the container id')
      .action(async (image: string, command: string[], o) => {
        mark('cli: run action');
        const { containers } = await engine(g);
        mark('cli: engine ready');
        let pid = 0;
        const stopForwarding = forwardSignals(() => pid);
        try {
          const r = await containers.run({
            ...createOptions(image, command, o),
            rm: o.rm === true,
            detach: o.detach === true,
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
      .option('-f, --filter <filter>', 'status=, name=, id=, label=, ancestor=, exited=', collect, [])
      .action(async (o) => {
        const { containers } = await engine(g);
        const filters = (o.filter as string[]).map((f) => {
          const i = f.indexOf('=');
          if (i <= 0) throw invalidArgument(`bad format of filter (expected name=value): ${JSON.stringify(f)}`);
          const k = f.slice(0, i);
          if (!['status', 'name', 'id', 'label', 'ancestor', 'exited'].includes(k)) throw invalidArgument(`invalid filter ${JSON.stringify(k)}`);
          return [k, f.slice(i + 1)] as const;
        });
        const match = (c: (ReturnType<typeof containers.list>)[number]) =>
          filters.every(([k, v]) => {
            if (k === 'status') return c.State.Status === v;
            if (k === 'name') return c.Name.includes(v);
            if (k === 'id') return c.Id.startsWith(v);
            if (k === 'exited') return c.State.Status === 'exited' && String(c.State.ExitCode) === v;
            if (k === 'ancestor') return c.Image === v || c.ImageID.includes(v);
            const labels = (containers.inspect(c.Id).Config as { Labels: Record<string, string> }).Labels;
            const [lk, lv] = v.split('=', 2) as [string, string?];
            return lk in labels && (lv === undefined || labels[lk] === lv);
          });
        const list = containers.list().filter((c) => (o.all || filters.length > 0 || c.State.Status === 'running') && match(c));
        const id = (c: { Id: string }) => (o.trunc === false ? c.Id : c.Id.slice(0, 12));
        if (o.quiet) return out(list.map((c) => id(c) + '\n').join(''));
        const rows = list.map((c) => {
          const st = c.State;
          const health = c.Health ? (c.Health.Status === 'starting' ? ' (health: starting)' : ` (${c.Health.Status})`) : '';
          const status = st.Status === 'running' ? `Up ${ago(st.StartedAt).replace(/ ago$/, '')}${health}` : st.Status === 'exited' ? `Exited (${st.ExitCode}) ${ago(st.FinishedAt || c.Created)}` : 'Created';
          const command = JSON.stringify(c.Command.join(' '));
          return { ID: id(c), Image: c.Image, Command: o.trunc === false || command.length <= 22 ? command : command.slice(0, 20) + '…"', CreatedAt: c.Created, RunningFor: ago(c.Created), Status: status, State: st.Status, Ports: st.Status === 'running' ? portsColumn(c.PortsUp) : '', Names: c.Name };
        });
        if (o.format) return out(renderFormatted(o.format, rows));
        out(renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
      });

  const rmCmd = (cmd: Command) =>
    cmd
      .description('remove containers')
      .argument('<container...>')
      .option('-f, --force', 'kill a running container first')
      .option('-v, --volumes', 'also remove its anonymous volumes')
      .action(async (names: string[], o) => {
        const { containers } = await engine(g);
        let failed: Error | undefined;
        for (const n of names) {
          try {
            await containers.remove(n, o.force === true, o.volumes === true);
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
      .option('-t, --tty', 'allocate a terminal')
      .action(async (name: string, command: string[], o) => {
        const { containers } = await engine(g);
        let pid = 0;
        const stopForwarding = o.detach ? () => {} : forwardSignals(() => pid);
        try {
          const code = await containers.exec(name, { command, env: o.env as string[], workdir: o.workdir, user: o.user, detach: o.detach === true, tty: o.tty === true, stdio: [o.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'], onStart: (p) => (pid = p) });
          throw new ExitCode(code);
        } finally {
          stopForwarding();
        }
      });
  const simple = (name: string, desc: string, f: (c: Awaited<ReturnType<typeof engine>>['containers'], n: string) => Promise<unknown> | unknown) =>
    program
      .command(name)
      .description(desc)
      .argument('<container...>')
      .action(async (names: string[]) => {
        const { containers } = await engine(g);
        for (const n of names) {
          await f(containers, n);
          out(n + '\n');
        }
      });
  program
    .command('start')
    .description('start stopped containers')
    .argument('<container...>')
    .option('-a, --attach', "attach to the container's output (and wait for it)")
    .option('-i, --interactive', "attach the container's stdin")
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      if (!o.attach && !o.interactive) {
        for (const n of names) {
          await containers.start(n);
          out(n + '\n');
        }
        return;
      }
      if (names.length > 1) throw invalidArgument('you cannot start and attach multiple containers at once');
      // Attached: in the foreground of this process (as `run` without -d), its exit code ours.
      let pid = 0;
      const stopForwarding = forwardSignals(() => pid);
      try {
        const r = await containers.start(names[0]!, { attach: true, stdio: [o.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'], onStart: (p) => (pid = p) });
        throw new ExitCode(r.code);
      } finally {
        stopForwarding();
      }
    });
  program
    .command('attach')
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
  program
    .command('restart')
    .description('restart containers: stop (the stop signal, then SIGKILL after the timeout), then start')
    .argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const time = o.time === undefined ? undefined : Number(o.time);
      if (time !== undefined && !Number.isInteger(time)) throw invalidArgument(`invalid argument ${JSON.stringify(o.time)} for "-t, --time" flag: not a whole number of seconds`);
      for (const n of names) {
        await containers.restart(n, time);
        out(n + '\n');
      }
    });
  simple('pause', 'pause every process of containers', (c, n) => c.pause(n));
  simple('unpause', 'unpause containers', (c, n) => c.unpause(n));
  // Only the command that runs gets the long option set of run/create (defining it costs ms).
  const only = (name: string) => argv[0] === name;
  if (only('create')) containerFlags(program.command('create').description('create a container without starting it')).action(async (image: string, command: string[], o) => {
    const { containers } = await engine(g);
    const policy = String(o.restart ?? 'no');
    if (o.rm && policy !== 'no') throw invalidArgument('Conflicting options: --restart and --rm');
    out((await containers.create({ ...createOptions(image, command, o), autoRemove: o.rm === true })).Id + '\n');
  });
  program
    .command('cp')
    .description('copy files between a container and the host (- for a tar stream)')
    .argument('<src>', 'CONTAINER:PATH, a host path, or -')
    .argument('<dest>', 'CONTAINER:PATH, a host path, or -')
    .action(async (src: string, dest: string) => {
      const { containers } = await engine(g);
      const ctr = (s: string) => /^[a-zA-Z0-9][a-zA-Z0-9_.-]*:/.exec(s) && !s.startsWith('/') ? [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)] as const : undefined;
      const from = ctr(src);
      const to = ctr(dest);
      if (from && to) throw invalidArgument('copying between containers is not supported');
      if (!from && !to) throw invalidArgument('must specify at least one container source');
      if (from) await containers.copyOut(from[0], from[1] || '/', dest === '-' ? undefined : dest, process.stdout);
      else {
        let input: Buffer | undefined;
        if (src === '-') {
          const chunks: Buffer[] = [];
          for await (const c of process.stdin) chunks.push(c as Buffer);
          input = Buffer.concat(chunks);
        }
        await containers.copyIn(to![0], src === '-' ? undefined : src, to![1] || '/', input);
      }
    });
  program
    .command('update')
    .description('change the resources of running containers')
    .argument('<container...>')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--cpus <n>', 'number of CPUs')
    .option('--cpu-shares <n>', 'relative CPU weight')
    .option('--pids-limit <n>', 'pids limit')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      for (const n of names) {
        containers.update(n, { memory: o.memory, cpus: o.cpus, cpuShares: o.cpuShares !== undefined ? Number(o.cpuShares) : undefined, pidsLimit: o.pidsLimit !== undefined ? Number(o.pidsLimit) : undefined });
        out(n + '\n');
      }
    });
  program
    .command('rename')
    .description('rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (c: string, n: string) => (await engine(g)).containers.rename(c, n));
  program
    .command('inspect')
    .description('details of containers or images, as JSON')
    .argument('<name...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .option('--type <type>', 'container or image')
    .action(async (names: string[], o) => {
      const { containers, images } = await engine(g);
      const items = names.map((n) => {
        if (o.type !== 'image') {
          try {
            return containers.inspect(n);
          } catch (e) {
            if (o.type === 'container') throw e;
          }
        }
        try {
          return images.inspect(n);
        } catch {
          throw new (class extends Error {})(`No such object: ${n}`);
        }
      });
      if (o.format) out(renderFormatted(o.format, items));
      else out(JSON.stringify(items, null, 4) + '\n');
    });
  program
    .command('diff')
    .description("changes to a container's file system (A added, C changed, D deleted)")
    .argument('<container>')
    .action(async (n: string) => {
      for (const c of await (await engine(g)).containers.diff(n)) out(`${c.kind} ${c.path}\n`);
    });
  program
    .command('commit')
    .description("a new image from a container's changes")
    .argument('<container>')
    .argument('[reference]')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('-a, --author <author>', 'author')
    .action(async (n: string, ref: string | undefined, o) => {
      out((await (await engine(g)).containers.commit(n, { ref, changes: o.change as string[], message: o.message, author: o.author })) + '\n');
    });
  program
    .command('export')
    .description("a container's file system as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (n: string, o) => {
      const { containers } = await engine(g);
      if (!o.output && process.stdout.isTTY) throw invalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      await pipeline(await containers.exportFs(n), o.output ? createWriteStream(o.output) : process.stdout);
    });
  program
    .command('top')
    .description('the processes of a container')
    .argument('<container>')
    .action(async (n: string) => {
      const procs = (await engine(g)).containers.top(n);
      out(renderTable(['PID', 'USER', 'COMMAND'], procs.map((p) => [String(p.pid), p.user, p.command])));
    });
  program
    .command('stats')
    .description('resource usage of containers (from their cgroups), live or once')
    .argument('[container...]')
    .option('-a, --all', 'all containers (default: the running ones)')
    .option('--no-stream', 'print once and exit')
    .option('--no-trunc', 'do not truncate ids')
    .option('--format <format>', 'json or a {{.Field}} template')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const { humanSize } = await import('../lib/units.js');
      const si = humanSize;
      // Memory in binary units, as docker stats prints it (1.5MiB / 1.944GiB).
      const bin = (n: number) => {
        const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
        let i = 0;
        for (; n >= 1024 && i < u.length - 1; i++) n /= 1024;
        return `${i ? n.toFixed(i > 1 ? 3 : 2).replace(/\.?0+$/, '') : n}${u[i]}`;
      };
      const which = () => (names.length ? names : containers.list().filter((c) => o.all || c.State.Status === 'running').map((c) => c.Name));
      type Sample = { at: number; cpu: number };
      const last = new Map<string, Sample>();
      const netOf = (pid: number) => {
        let rx = 0;
        let tx = 0;
        try {
          for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
            const [ifname, rest] = line.split(':');
            if (!rest || ifname!.trim() === 'lo') continue;
            const f = rest.trim().split(/\s+/).map(Number);
            rx += f[0] ?? 0;
            tx += f[8] ?? 0;
          }
        } catch {
          /* gone */
        }
        return `${si(rx)} / ${si(tx)}`;
      };
      const sample = () =>
        which().map((n) => {
          const rec = containers.find(n);
          const id = o.trunc === false ? rec.Id : rec.Id.slice(0, 12);
          if (rec.State.Status !== 'running') return { ID: id, Name: rec.Name, CPUPerc: '0.00%', MemUsage: '0B / 0B', MemPerc: '0.00%', NetIO: '0B / 0B', BlockIO: '0B / 0B', PIDs: '0' };
          const st = containers.stats(rec.Id).stats as unknown as { memory?: { usage?: number; limit?: number | null; stats?: Record<string, number> }; pids?: { current?: number }; cpu?: { usageTotal?: number }; blkio?: { devices: { readBytes: number; writeBytes: number }[] } };
          // Docker's figure: memory in use less the page cache that can be dropped.
          const cache = st.memory?.stats?.['total_inactive_file'] ?? st.memory?.stats?.['inactive_file'] ?? 0;
          const mem = Math.max(0, (st.memory?.usage ?? 0) - cache);
          const hostMem = totalmem();
          const lim = st.memory?.limit && st.memory.limit < hostMem ? st.memory.limit : hostMem;
          const now = { at: Number(process.hrtime.bigint()), cpu: st.cpu?.usageTotal ?? 0 };
          const prev = last.get(rec.Id);
          last.set(rec.Id, now);
          const cpu = prev && now.at > prev.at ? (100 * (now.cpu - prev.cpu)) / (now.at - prev.at) : 0;
          const rd = (st.blkio?.devices ?? []).reduce((a, d) => a + d.readBytes, 0);
          const wr = (st.blkio?.devices ?? []).reduce((a, d) => a + d.writeBytes, 0);
          return { ID: id, Name: rec.Name, CPUPerc: `${cpu.toFixed(2)}%`, MemUsage: `${bin(mem)} / ${bin(lim)}`, MemPerc: `${((100 * mem) / lim).toFixed(2)}%`, NetIO: netOf(rec.State.Pid), BlockIO: `${si(rd)} / ${si(wr)}`, PIDs: String(st.pids?.current ?? 0) };
        });
      const render = (rows: ReturnType<typeof sample>) =>
        o.format
          ? renderFormatted(o.format, rows)
          : renderTable(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'], rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs]));
      // CPU % needs two readings: the first is taken a moment before the one shown.
      sample();
      await new Promise((r) => setTimeout(r, 500));
      if (o.stream === false) return out(render(sample()));
      for (;;) {
        const text = render(sample());
        out(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
  const volume = program.command('volume').description('manage volumes');
  volume
    .command('create')
    .description('create a volume')
    .argument('[name]')
    .option('--name <name>', 'name of the volume')
    .option('-l, --label <key=value>', 'label', collect, [])
    .option('-d, --driver <driver>', 'local (the only one)', 'local')
    .action(async (name: string | undefined, o) => {
      if (o.driver !== 'local') throw invalidArgument(`volume driver ${JSON.stringify(o.driver)} is not there (local only)`);
      const labels = Object.fromEntries((o.label as string[]).map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      out((await engine(g)).containers.volumes.create(name ?? o.name, { labels }).Name + '\n');
    });
  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only names')
    .option('--format <format>', 'json or a {{.Field}} template')
    .action(async (o) => {
      const vols = (await engine(g)).containers.volumes.list();
      if (o.quiet) return out(vols.map((v) => v.Name + '\n').join(''));
      if (o.format) return out(renderFormatted(o.format, vols as unknown as Record<string, unknown>[]));
      out(renderTable(['DRIVER', 'VOLUME NAME'], vols.map((v) => [v.Driver, v.Name])));
    });
  volume
    .command('inspect')
    .description('details of volumes, as JSON')
    .argument('<name...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .action(async (names: string[], o) => {
      const { containers } = await engine(g);
      const items = names.map((n) => containers.volumes.require(n)) as unknown as Record<string, unknown>[];
      if (o.format) out(renderFormatted(o.format, items));
      else out(JSON.stringify(items, null, 4) + '\n');
    });
  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes (not while a container uses them)')
    .argument('<name...>')
    .option('-f, --force', 'accepted for docker compatibility')
    .action(async (names: string[]) => {
      const { containers } = await engine(g);
      for (const n of names) {
        containers.volumes.remove(n, containers.volumeUsers(n));
        out(n + '\n');
      }
    });
  volume
    .command('prune')
    .description('remove volumes no container uses')
    .option('-a, --all', 'named ones too (by default only anonymous ones, as Docker 23+)')
    .option('-f, --force', 'do not ask for confirmation (the only mode yet)')
    .action(async (o) => {
      const { containers } = await engine(g);
      const gone: string[] = [];
      for (const v of containers.volumes.list()) {
        if ((!v.Anonymous && !o.all) || containers.volumeUsers(v.Name).length) continue;
        containers.volumes.remove(v.Name);
        gone.push(v.Name);
      }
      out((gone.length ? 'Deleted Volumes:\n' + gone.map((n) => n + '\n').join('') + '\n' : '') + 'Total reclaimed space: 0B\n');
    });
  logsCmd(program.command('logs'));
  stopCmd(program.command('stop'));
  killCmd(program.command('kill'));
  waitCmd(program.command('wait'));
  execCmd(program.command('exec'));
  if (only('run')) runCmd(program.command('run'));
  psCmd(program.command('ps'));
  rmCmd(program.command('rm'));
  const container = program.command('container').description('manage containers');
  if (only('container')) runCmd(container.command('run'));
  psCmd(container.command('ls').alias('list').alias('ps'));
  rmCmd(container.command('rm').alias('remove'));
  container
    .command('healthcheck', { hidden: true })
    .description("run by a container's monitor every health interval")
    .argument('<container>')
    .action(async (n: string) => (await engine(g)).containers.healthcheck(n));
  container
    .command('cleanup', { hidden: true })
    .description("run by a container's monitor when it ended: the restart policy")
    .argument('<container>')
    .argument('[net-token]', 'which start it cleans up after (a later start is left alone)')
    .action(async (n: string, token: string | undefined) => (await engine(g)).containers.cleanup(n, token));
  container
    .command('prune')
    .description('remove all stopped containers')
    .option('-f, --force', 'do not ask for confirmation (the only mode yet)')
    .action(async () => {
      const gone = await (await engine(g)).containers.prune();
      out((gone.length ? 'Deleted Containers:\n' + gone.map((id) => id + '\n').join('') + '\n' : '') + 'Total reclaimed space: 0B\n');
    });
  logsCmd(container.command('logs'));
  stopCmd(container.command('stop'));
  killCmd(container.command('kill'));
  waitCmd(container.command('wait'));
  execCmd(container.command('exec'));

  return runProgram(program, argv);
}
