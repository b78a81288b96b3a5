/**
 * The flags of `run` and `create` → a ContainerCreateRequest, the body the docker CLI would send
 * for the same command line (`docker create FLAGS IMAGE CMD`): -m in bytes, --cpus in nano-CPUs,
 * -p as ExposedPorts and PortBindings, --mount as Mounts, --health-* in nanoseconds, env files
 * read here (as the docker CLI reads them, not the daemon). Values berth cannot read are refused
 * with the messages berth has always given; checks that need the host or the image stay in the
 * engine.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BerthError, invalidArgument } from '../lib/errors.js';
import { systemErrorText } from './exit.js';
import {
  normalizeCapability,
  normalizeExtraHost,
  parseDeviceMapping,
  parseLabels,
  parseMemoryBytes,
  parseMountSpec,
  parseNanoCpus,
  parsePortSpecs,
  parseRestartPolicy,
  parseThrottleDevice,
  parseTmpfsSpec,
  parseUlimit,
  positiveDurationNs,
  splitVolumeSpecs,
} from '../engine/index.js';
import type { api } from '../engine/index.js';
type ContainerConfig = api.ContainerConfig;
type ContainerCreateRequest = api.ContainerCreateRequest;
type EndpointSettings = api.EndpointSettings;
type HealthConfig = api.HealthConfig;
type HostConfig = api.HostConfig;
type Ulimit = api.Ulimit;

/** The options commander gives `run` and `create` (the keys of their flags, defined by containerFlags). */
export interface ContainerFlags {
  rm?: boolean;
  detach?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  groupAdd?: string[];
  hostname?: string;
  entrypoint?: string;
  label?: string[];
  volume?: string[];
  volumesFrom?: string[];
  tmpfs?: string[];
  mount?: string[];
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  ulimit?: string[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  securityOpt?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  network?: string;
  publish?: string[];
  publishAll?: boolean;
  /** --expose PORT[/PROTO] or a range START-END[/PROTO] */
  expose?: string[];
  ip?: string;
  macAddress?: string;
  link?: string[];
  networkAlias?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  pid?: string;
  userns?: string;
  ipc?: string;
  uts?: string;
  readOnly?: boolean;
  init?: boolean;
  device?: string[];
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  restart?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  /** false with --no-healthcheck */
  healthcheck?: boolean;
  interactive?: boolean;
  tty?: boolean;
  /** --pull always|missing|never */
  pull?: string;
}


const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * The flags of `run` and `create` (Docker's `create` takes every flag of `run`), whose option
 * object containerRequestFromFlags reads; `run` adds -d (run.ts).
 */
export function containerFlags(cmd: Command): Command {
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
    .option('--group-add <group>', 'an additional group (a name or gid of the image\'s /etc/group)', collect, [])
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
    .option('--expose <port>', 'expose a port or a range of ports', collect, [])
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
    .option('-t, --tty', 'allocate a terminal')
    .option('--pull <policy>', 'pull the image before running ("always", "missing", "never")', 'missing');
}

/**
 * --pull: checked before the request is sent, as the docker CLI does; the engine then pulls the
 * image first (always), when it is not here (missing), or never (ContainerCreateRequest.pull).
 */
export function pullPolicy(o: ContainerFlags): 'always' | 'missing' | 'never' {
  const p = o.pull ?? 'missing';
  if (p !== 'always' && p !== 'missing' && p !== 'never') throw invalidArgument(`invalid pull option: '${p}': must be one of "always", "missing" or "never"`);
  return p;
}

/** Where the CLI's own environment is read from (`-e NAME`, env files' bare names). */
export type LookupEnv = (name: string) => string | undefined;

const processEnv: LookupEnv = (name) => process.env[name];

function num(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "${flag}" flag`);
  return n;
}

/** Env files' lines (as the docker CLI reads them: left-trimmed, bare names from this environment), then -e. */
function environment(files: readonly string[], vars: readonly string[], lookup: LookupEnv): string[] {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw invalidArgument(systemErrorText(e));
    }
    text.replace(/^\uFEFF/, '').split('\n').forEach((raw, n) => {
      const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const name = eq < 0 ? line : line.slice(0, eq);
      if (/\s/.test(name)) throw invalidArgument(`${f}:${n + 1}: variable ${JSON.stringify(name)} contains whitespaces`);
      if (eq >= 0) out.push(line);
      else {
        const v = lookup(name);
        if (v !== undefined) out.push(`${name}=${v}`);
      }
    });
  }
  for (const e of vars) {
    if (e === '' || e.startsWith('=')) throw invalidArgument(`invalid argument ${JSON.stringify(e)} for "-e, --env" flag: invalid environment variable: ${e}`);
    if (e.includes('=')) out.push(e);
    else {
      const v = lookup(e);
      out.push(v === undefined ? e : `${e}=${v}`);
    }
  }
  return out;
}

/** -v ./dir:/x (or ../dir, .): the source against this process's directory, as the docker CLI sends it. */
function absoluteBindSource(v: string): string {
  const i = v.indexOf(':');
  if (i <= 0 || !v.startsWith('.')) return v;
  return resolve(v.slice(0, i)) + v.slice(i);
}

/** --health-*: undefined when none is given (the image's check applies). */
function healthcheck(o: ContainerFlags): HealthConfig | undefined {
  if (o.healthcheck === false) return { Test: ['NONE'] };
  const retries = o.healthRetries === undefined ? undefined : Number(o.healthRetries);
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 1)) {
    throw invalidArgument('--health-interval and --health-timeout must be positive durations, --health-retries at least 1');
  }
  const h: HealthConfig = {
    ...(o.healthCmd ? { Test: ['CMD-SHELL', o.healthCmd] } : {}),
    ...(o.healthInterval !== undefined ? { Interval: positiveDurationNs(o.healthInterval, '--health-interval') } : {}),
    ...(o.healthTimeout !== undefined ? { Timeout: positiveDurationNs(o.healthTimeout, '--health-timeout') } : {}),
    ...(o.healthStartPeriod !== undefined ? { StartPeriod: positiveDurationNs(o.healthStartPeriod, '--health-start-period') } : {}),
    ...(retries !== undefined ? { Retries: retries } : {}),
  };
  return Object.keys(h).length ? h : undefined;
}

/** --security-opt, with a seccomp profile's file read here and sent inline, as the docker CLI does. */
function securityOpts(list: readonly string[]): string[] {
  return list.map((s) => {
    const m = /^seccomp([=:])(.*)$/.exec(s);
    if (!m || m[2] === 'unconfined') return s;
    const path = m[2]!;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw invalidArgument(`opening seccomp profile (${path}) failed: ${systemErrorText(e)}`);
    }
    try {
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    } catch (e) {
      throw invalidArgument(`decoding seccomp profile ${path}: ${(e as Error).message}`);
    }
  });
}

/** --ulimit, one per name (the last given wins), ordered by name as the docker CLI sends them. */
function ulimits(list: readonly string[]): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const u of list) {
    const l = parseUlimit(u);
    byName.set(l.Name!, l);
  }
  return [...byName.values()].sort((a, b) => (a.Name! < b.Name! ? -1 : a.Name! > b.Name! ? 1 : 0));
}

/**
 * The endpoint --ip, --network-alias, --mac-address and --link ask for on the network; links
 * belong to the endpoint on a user-defined network only (on the default bridge they are legacy
 * links, HostConfig.Links), as the docker CLI sends them.
 */
function endpoint(o: ContainerFlags): EndpointSettings {
  const ep: EndpointSettings = {};
  const mode = o.network || 'default';
  const userDefined = !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
  if (o.ip) ep.IPAMConfig = { IPv4Address: o.ip };
  if (o.link?.length && userDefined) ep.Links = [...o.link];
  if (o.networkAlias?.length) ep.Aliases = [...o.networkAlias];
  if (o.macAddress) ep.MacAddress = o.macAddress;
  return ep;
}

/**
 * `run`/`create`'s flags, image and command → the request (what the docker CLI sends for the
 * same flags, with Docker's defaults: NetworkMode "default", RestartPolicy "no",
 * MemorySwappiness -1, stdout and stderr attached unless detached).
 */
export function containerRequestFromFlags(image: string, command: readonly string[], o: ContainerFlags, lookupEnv: LookupEnv = processEnv): ContainerCreateRequest {
  const restart = parseRestartPolicy(o.restart);
  if (o.rm && restart.Name !== 'no') throw invalidArgument('conflicting options: cannot specify both --restart and --rm');
  const detached = o.detach === true;
  const stdin = o.interactive === true;

  const config: ContainerConfig = {
    AttachStdin: stdin && !detached,
    AttachStdout: !detached,
    AttachStderr: !detached,
    Tty: o.tty === true,
    OpenStdin: stdin,
    StdinOnce: stdin && !detached,
    Image: image,
  };
  if (o.hostname) config.Hostname = o.hostname;
  if (o.user) config.User = o.user;
  if (o.workdir) config.WorkingDir = o.workdir;
  if (command.length) config.Cmd = [...command];
  if (o.entrypoint !== undefined) config.Entrypoint = [o.entrypoint];
  const env = environment(o.envFile ?? [], o.env ?? [], lookupEnv);
  if (env.length) config.Env = env;
  if (o.label?.length) config.Labels = parseLabels(o.label);
  if (o.stopSignal) config.StopSignal = o.stopSignal;
  const stopTimeout = num(o.stopTimeout, '--stop-timeout');
  if (stopTimeout !== undefined) config.StopTimeout = stopTimeout;
  const health = healthcheck(o);
  if (health) config.Healthcheck = health;

  const host: HostConfig = {
    NetworkMode: o.network || 'default',
    RestartPolicy: restart.MaximumRetryCount ? restart : { Name: restart.Name },
    MemorySwappiness: -1,
  };
  // A bind's source starting with "." is made absolute against the CLI's own directory, as the docker CLI does.
  const volumes = splitVolumeSpecs((o.volume ?? []).map(absoluteBindSource));
  if (volumes.Binds.length) host.Binds = volumes.Binds;
  if (Object.keys(volumes.Volumes).length) config.Volumes = volumes.Volumes;
  if (o.volumesFrom?.length) host.VolumesFrom = [...o.volumesFrom];
  if (o.tmpfs?.length) host.Tmpfs = Object.fromEntries(o.tmpfs.map(parseTmpfsSpec));
  if (o.mount?.length) host.Mounts = o.mount.map(parseMountSpec);
  if (o.publish?.length) {
    const ports = parsePortSpecs(o.publish);
    config.ExposedPorts = ports.ExposedPorts;
    host.PortBindings = ports.PortBindings;
  }
  if (o.publishAll) host.PublishAllPorts = true;
  // --expose: ports (or a range, one entry each) the container listens on, as the docker CLI adds them.
  for (const e of o.expose ?? []) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(e);
    const first = Number(m?.[1]);
    const last = m?.[2] !== undefined ? Number(m[2]) : first;
    if (!m || !(first >= 1 && last <= 65535 && first <= last)) throw invalidArgument(`invalid range format for --expose: ${e}, error: Invalid range format`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    config.ExposedPorts ??= {};
    for (let p = first; p <= last; p++) config.ExposedPorts[`${p}/${proto}`] = {};
  }
  if (o.rm) host.AutoRemove = true;

  if (o.memory !== undefined) host.Memory = parseMemoryBytes(o.memory, 'memory');
  if (o.memorySwap !== undefined) host.MemorySwap = parseMemoryBytes(o.memorySwap, 'memory-swap');
  if (o.cpus !== undefined) host.NanoCpus = parseNanoCpus(o.cpus);
  const shares = num(o.cpuShares, '--cpu-shares');
  if (shares !== undefined) host.CpuShares = shares;
  if (o.cpusetCpus) host.CpusetCpus = o.cpusetCpus;
  const pids = num(o.pidsLimit, '--pids-limit');
  if (pids !== undefined) host.PidsLimit = pids;
  if (o.ulimit?.length) host.Ulimits = ulimits(o.ulimit);
  const weight = num(o.blkioWeight, '--blkio-weight');
  if (weight !== undefined) {
    // 0 would read as "not set": refused here, as the engine refuses it.
    if (weight === 0) throw invalidArgument('invalid --blkio-weight 0: range is from 10 to 1000');
    host.BlkioWeight = weight;
  }
  if (o.deviceReadBps?.length) host.BlkioDeviceReadBps = o.deviceReadBps.map((s) => parseThrottleDevice(s, '--device-read-bps', 'bps'));
  if (o.deviceWriteBps?.length) host.BlkioDeviceWriteBps = o.deviceWriteBps.map((s) => parseThrottleDevice(s, '--device-write-bps', 'bps'));
  if (o.deviceReadIops?.length) host.BlkioDeviceReadIOps = o.deviceReadIops.map((s) => parseThrottleDevice(s, '--device-read-iops', 'iops'));
  if (o.deviceWriteIops?.length) host.BlkioDeviceWriteIOps = o.deviceWriteIops.map((s) => parseThrottleDevice(s, '--device-write-iops', 'iops'));
  if (o.device?.length) host.Devices = o.device.map(parseDeviceMapping);
  if (o.init === true) host.Init = true;

  if (o.capAdd?.length) host.CapAdd = o.capAdd.map(normalizeCapability);
  if (o.capDrop?.length) host.CapDrop = o.capDrop.map(normalizeCapability);
  if (o.groupAdd?.length) host.GroupAdd = [...o.groupAdd];
  if (o.privileged) host.Privileged = true;
  if (o.securityOpt?.length) host.SecurityOpt = securityOpts(o.securityOpt);
  if (o.readOnly) host.ReadonlyRootfs = true;
  if (o.pid) host.PidMode = o.pid;
  if (o.ipc) host.IpcMode = o.ipc;
  if (o.uts) host.UTSMode = o.uts;
  if (o.userns) host.UsernsMode = o.userns;

  if (o.dns?.length) host.Dns = [...o.dns];
  if (o.dnsSearch?.length) host.DnsSearch = [...o.dnsSearch];
  if (o.dnsOption?.length) host.DnsOptions = [...o.dnsOption];
  if (o.addHost?.length) host.ExtraHosts = o.addHost.map(normalizeExtraHost);
  if (o.link?.length) host.Links = [...o.link];

  // The docker CLI always sends the default network's endpoint; a named one only when an
  // option asks something of it.
  const ep = endpoint(o);
  const endpoints: Record<string, EndpointSettings> = {};
  if (!o.network || Object.keys(ep).length) endpoints[host.NetworkMode!] = ep;

  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    Config: config,
    HostConfig: host,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
}
