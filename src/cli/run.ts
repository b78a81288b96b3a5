/** `run` and `create` (and `container run`): Docker's flags → the engine's create options. */
import type { Command } from 'commander';
import { invalidArgument } from '../lib/errors.js';
import { mark } from '../lib/timing.js';
import { parseMountFlag } from '../engine/index.js';
import { engine, type GlobalOptions } from './context.js';
import { collect, ExitCode, forwardSignals, runDefined } from './program.js';

/** Go-style durations as docker takes them: 500ms, 30s, 1m30s, 2h. */
function duration(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * { ms: 1, s: 1e3, m: 6e4, h: 36e5 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    consumed += m[0];
  }
  if (consumed !== v || total <= 0) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "${flag}" flag: time: invalid duration`);
  return total;
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

/** The flags of `run` and `create` (Docker's `create` takes every flag of `run`). */
function containerFlags(cmd: Command): Command {
  return cmd
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
}

/** What run and create pass to the engine from their common flags. */
function createOptions(image: string, command: string[], o: Record<string, unknown>) {
  return {
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
  };
}

/** `run` (also `container run`): in the foreground, its exit code ours; or detached (-d). */
export const runCommand = (cmd: Command, g: GlobalOptions) =>
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
          process.stdout.write(r.id + '\n');
          return;
        }
        throw new ExitCode(r.code);
      } finally {
        stopForwarding();
      }
    });

export const createCommand = (cmd: Command, g: GlobalOptions) =>
  containerFlags(cmd.description('create a container without starting it')).action(async (image: string, command: string[], o) => {
    const { containers } = await engine(g);
    const policy = String(o.restart ?? 'no');
    if (o.rm && policy !== 'no') throw invalidArgument('Conflicting options: --restart and --rm');
    process.stdout.write((await containers.create({ ...createOptions(image, command, o), autoRemove: o.rm === true })).Id + '\n');
  });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { run: runCommand, create: createCommand });
}
