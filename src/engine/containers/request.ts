/**
 * A ContainerCreateRequest (Docker's Config, HostConfig and NetworkingConfig: what `berth run`'s
 * flags become, what the API server decodes) → the options create works with. The one place
 * where the request's shapes are read: every front end sends a request, none builds options.
 *
 * Read here: sizes in bytes, NanoCpus, PortBindings, Mounts, RestartPolicy, Healthcheck in
 * nanoseconds, Ulimits, Devices, throttles, the endpoint of NetworkingConfig. Still in Docker's
 * own string forms (as the Engine API has them, parsed by the engine): Binds (-v syntax, by
 * parseVolumeSpec), Tmpfs' options, SecurityOpt, ExtraHosts, Dns*, VolumesFrom, the namespace
 * modes.
 */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { invalidArgument } from '../../lib/errors.js';
import { parseVolumeSpec, type VolumeSpec } from '../container-spec.js';
import type { ContainerCreateRequest, EndpointSettings, Mount, PortMap } from '../models.js';
import type { PortMapping } from '../../network/index.js';
import type { CreateOptions } from './types.js';

/** Names of local volumes (Docker's rule). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** HostConfig.Mounts[] of type bind or volume → the volume specs create resolves (tmpfs ones: see tmpfsOfMounts). */
function volumeOfMount(m: Mount): VolumeSpec | undefined {
  const spec = JSON.stringify(m);
  const target = m.Target ?? '';
  if (m.Type === 'tmpfs') return undefined;
  if (m.Type !== 'bind' && m.Type !== 'volume' && m.Type !== undefined) throw invalidArgument(`invalid mount ${spec}: unknown mount type ${JSON.stringify(m.Type)} (bind, volume or tmpfs)`);
  if (!isAbsolute(target)) throw invalidArgument(`invalid mount ${spec}: the target must be an absolute path`);
  const readOnly = m.ReadOnly === true;
  if (m.Type === 'bind') {
    const source = m.Source ?? '';
    if (!isAbsolute(source)) throw invalidArgument(`invalid mount ${spec}: the source of a bind mount must be an absolute path`);
    if (!existsSync(source)) throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
    const prop = m.BindOptions?.Propagation;
    return { kind: 'bind', source, destination: target, readOnly, propagation: prop ? [prop] : [], mode: '' };
  }
  const name = m.Source || undefined;
  if (name !== undefined && !VOLUME_NAME.test(name)) throw invalidArgument(`invalid mount ${spec}: ${JSON.stringify(name)} includes invalid characters for a local volume name`);
  // (dockerd shows a --mount volume's Mode as "z".)
  return { kind: 'volume', source: name, destination: target, readOnly, propagation: [], mode: 'z', ...(m.VolumeOptions?.NoCopy ? { noCopy: true } : {}) };
}

/** tmpfs Mounts as Tmpfs entries: container path → mount options. */
function tmpfsOfMounts(mounts: readonly Mount[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of mounts) {
    if (m.Type !== 'tmpfs') continue;
    if (!m.Target || !isAbsolute(m.Target)) throw invalidArgument(`invalid mount ${JSON.stringify(m)}: the target must be an absolute path`);
    const t = m.TmpfsOptions ?? {};
    const opts = [...(t.SizeBytes ? [`size=${t.SizeBytes}`] : []), ...(t.Mode !== undefined ? [`mode=${t.Mode.toString(8)}`] : []), ...(m.ReadOnly ? ['ro'] : [])];
    out[m.Target] = opts.join(',');
  }
  return out;
}

/**
 * PortBindings → the mappings asked: a HostPort '' (or absent) is any free port; a host range
 * ("8000-8010") is taken as its first port (berth does not pick one of a range); HostIp
 * 0.0.0.0 is every address; a port without bindings (null, []) is not published.
 */
export function portMappingsOf(bindings: PortMap | null | undefined): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(key);
    const port = m ? Number(m[1]) : NaN;
    if (!m || !(port >= 1 && port <= 65535)) throw invalidArgument(`invalid port specification: ${JSON.stringify(key)}: not a port and protocol (80/tcp, 53/udp)`);
    const proto = (m[2] ?? 'tcp') as 'tcp' | 'udp';
    for (const b of list ?? []) {
      const hp = /^(\d+)(?:-(\d+))?$/.exec(b.HostPort ?? '');
      if ((b.HostPort ?? '') !== '' && (!hp || !(Number(hp[1]) >= 1 && Number(hp[1]) <= 65535))) throw invalidArgument(`invalid port specification: ${JSON.stringify(`${b.HostPort}:${key}`)}: ${JSON.stringify(b.HostPort)} is not a port or a range of ports (1-65535)`);
      const hostIp = b.HostIp === '0.0.0.0' ? '' : (b.HostIp ?? '');
      out.push({ hostIp, hostPort: hp ? Number(hp[1]) : 0, containerPort: port, proto });
    }
  }
  return out;
}

/** The endpoint asked for on the container's network (the key of its mode, or "default"). */
function endpointOf(req: ContainerCreateRequest, mode: string): EndpointSettings {
  const eps = req.NetworkingConfig?.EndpointsConfig ?? {};
  const names = Object.keys(eps);
  const own = names.find((n) => n === mode) ?? names.find((n) => n === 'default' || (mode === 'bridge' && n === 'bridge'));
  const others = names.filter((n) => n !== own);
  if (others.length) throw invalidArgument(`a container is created on one network (${mode}), not also on ${others.join(', ')}: connect it to others with \`network connect\``);
  return (own === undefined ? undefined : eps[own]) ?? {};
}

/** The request → create's options (nothing of the host is checked here but bind sources). */
export function createOptionsOf(req: ContainerCreateRequest): CreateOptions {
  const cfg = req.Config ?? {};
  const host = req.HostConfig ?? {};
  const image = cfg.Image;
  if (!image) throw invalidArgument('no image given (Config.Image)');
  if (cfg.WorkingDir && !isAbsolute(cfg.WorkingDir)) throw invalidArgument(`the working directory '${cfg.WorkingDir}' is invalid, it needs to be an absolute path`);
  const mode = !host.NetworkMode || host.NetworkMode === 'default' ? 'bridge' : host.NetworkMode;
  const ep = endpointOf(req, mode);
  const restart = host.RestartPolicy;
  if (host.AutoRemove && restart?.Name && restart.Name !== 'no') throw invalidArgument('conflicting options: cannot specify both --restart and --rm');
  const volumes: VolumeSpec[] = [
    ...(host.Binds ?? []).map(parseVolumeSpec),
    ...Object.keys(cfg.Volumes ?? {}).map(parseVolumeSpec),
    ...(host.Mounts ?? []).flatMap((m) => volumeOfMount(m) ?? []),
  ];
  const tmpfs = { ...(host.Tmpfs ?? {}), ...tmpfsOfMounts(host.Mounts ?? []) };
  const entrypoint = cfg.Entrypoint?.length ? (cfg.Entrypoint.length === 1 && cfg.Entrypoint[0] === '' ? [] : [...cfg.Entrypoint]) : undefined;
  const links = [...new Set([...(host.Links ?? []), ...(ep.Links ?? [])])];
  const some = <T>(list: readonly T[] | null | undefined): T[] | undefined => (list?.length ? [...list] : undefined);
  const mac = ep.MacAddress || cfg.MacAddress || undefined;
  return {
    image,
    config: cfg,
    hostConfig: host,
    ...(host.GroupAdd?.length ? { groupAdd: [...host.GroupAdd] } : {}),
    ...(req.name !== undefined ? { name: req.name } : {}),
    command: cfg.Cmd ? [...cfg.Cmd] : undefined,
    entrypoint,
    env: some(cfg.Env),
    workdir: cfg.WorkingDir || undefined,
    user: cfg.User || undefined,
    hostname: cfg.Hostname || undefined,
    labels: cfg.Labels ?? undefined,
    stopSignal: cfg.StopSignal || undefined,
    stopTimeout: cfg.StopTimeout ?? undefined,
    health: cfg.Healthcheck,
    tty: cfg.Tty === true,
    interactive: cfg.OpenStdin === true,
    attach: { stdin: cfg.AttachStdin === true, stdout: cfg.AttachStdout === true, stderr: cfg.AttachStderr === true },
    exposed: Object.keys(cfg.ExposedPorts ?? {}),

    memory: host.Memory || undefined,
    memorySwap: host.MemorySwap || undefined,
    nanoCpus: host.NanoCpus || undefined,
    cpuShares: host.CpuShares || undefined,
    cpusetCpus: host.CpusetCpus || undefined,
    pidsLimit: host.PidsLimit || undefined,
    ulimits: some(host.Ulimits),
    blkioWeight: host.BlkioWeight || undefined,
    deviceReadBps: some(host.BlkioDeviceReadBps),
    deviceWriteBps: some(host.BlkioDeviceWriteBps),
    deviceReadIops: some(host.BlkioDeviceReadIOps),
    deviceWriteIops: some(host.BlkioDeviceWriteIOps),
    devices: some(host.Devices),
    withInit: host.Init === true,

    volumes,
    volumesFrom: some(host.VolumesFrom),
    tmpfs,
    readOnly: host.ReadonlyRootfs === true,
    capAdd: some(host.CapAdd),
    capDrop: some(host.CapDrop),
    privileged: host.Privileged === true,
    securityOpt: some(host.SecurityOpt),
    pid: host.PidMode || undefined,
    ipc: host.IpcMode || undefined,
    uts: host.UTSMode || undefined,
    userns: host.UsernsMode || undefined,
    autoRemove: host.AutoRemove === true,
    restart: restart ?? undefined,

    network: mode,
    ports: portMappingsOf(host.PortBindings),
    publishAll: host.PublishAllPorts === true,
    dns: some(host.Dns),
    dnsSearch: some(host.DnsSearch),
    dnsOption: some(host.DnsOptions),
    addHost: some(host.ExtraHosts),
    link: links.length ? links : undefined,
    ip: ep.IPAMConfig?.IPv4Address || undefined,
    networkAlias: some(ep.Aliases),
    ...(mac ? { macAddress: mac } : {}),
  };
}
