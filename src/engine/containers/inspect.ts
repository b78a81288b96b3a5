/** `inspect` in Docker's shape, and `port`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig, ContainerInspect, EndpointSettings, HostConfig, MountPoint, NetworkSettings } from '../models.js';
import { inspectConfig, inspectHostConfig } from './config.js';
import type { Spec } from '../../oci/runtime-spec.js';
import type { ContainerContext } from './context.js';
import { GO_ZERO_TIME } from '../../lib/duration.js';
import { goTime } from './store.js';
import { dockerStatus, type ContainerRecord } from './types.js';

/** Docker's port map: {"80/tcp": [{HostIp, HostPort}]}. */
function portMap(ports: { hostIp: string; hostPort: number; containerPort: number; proto: string }[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: p.hostPort ? String(p.hostPort) : '' });
  return out;
}

/** Docker's zero time, for a container never started or never ended. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** inspect's Mounts: the binds and volumes, then --mount tmpfs ones, in Docker's fields. */
function mountPoints(rec: ContainerRecord): MountPoint[] {
  const out: MountPoint[] = (rec.Mounts ?? []).map((m) => ({
    Type: m.Type,
    ...(m.Type === 'volume' ? { Name: m.Name ?? '' } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Type === 'volume' ? { Driver: 'local' } : {}),
    Mode: m.Mode ?? '',
    RW: m.RW,
    Propagation: (m.Propagation ?? (m.Type === 'bind' ? 'rprivate' : '')) as MountPoint['Propagation'],
  }));
  for (const m of rec.HostConfig?.Mounts ?? []) {
    if (m.Type === 'tmpfs') out.push({ Type: 'tmpfs', Source: '', Destination: m.Target ?? '', Mode: '', RW: m.ReadOnly !== true, Propagation: '' });
  }
  return out;
}

/** Config of a record written before berth kept it (from the spec). */
function legacyConfig(rec: ContainerRecord, spec: Spec | undefined): ContainerConfig {
  return { Hostname: spec?.hostname ?? '', Env: spec?.process?.env ?? [], Cmd: rec.Command, Image: rec.Image, WorkingDir: spec?.process?.cwd ?? '', Labels: spec?.annotations ?? {}, StopSignal: rec.StopSignal, Tty: rec.Tty === true, OpenStdin: rec.OpenStdin === true };
}

/**
 * The Config inspect shows. With another container's network, dockerd takes that one's hostname
 * when it starts the container: until then it shows the container's own (berth has set the
 * other's at create).
 */
function configShown(rec: ContainerRecord, spec: Spec | undefined): ContainerConfig {
  if (!rec.Config) return legacyConfig(rec, spec);
  const peer = rec.HostConfig?.NetworkMode?.startsWith('container:') && !rec.State.StartedAt && !(rec.HostConfig?.UTSMode === 'host');
  return peer && rec.Config.Hostname !== rec.Id.slice(0, 12) && spec?.hostname === rec.Config.Hostname ? { ...rec.Config, Hostname: rec.Id.slice(0, 12) } : rec.Config;
}

/** Where the container's own /etc files are, once it has started (Docker: '' before). */
function etcPath(c: ContainerContext, rec: ContainerRecord, name: string): string {
  const p = join(c.bundleDir(rec.Id), name);
  return rec.State.StartedAt && existsSync(p) ? p : '';
}

/** Docker-shaped details of a container. */
export function inspect(c: ContainerContext, nameOrId: string): ContainerInspect {
  const rec = c.store.find(nameOrId);
  let spec: Spec | undefined;
  try {
    spec = c.spec(rec.Id);
  } catch {
    spec = undefined;
  }
  const st = rec.State;
  const host: HostConfig = {
    ...(rec.HostConfig ?? { NetworkMode: rec.NetworkMode ?? 'none', ReadonlyRootfs: spec?.root?.readonly === true, Memory: spec?.linux?.resources?.memory?.limit ?? 0 }),
    Links: rec.Links ?? null,
    RestartPolicy: rec.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: rec.AutoRemove,
  };
  const m = c.images.snapshots.mounts(rec.Id)[0];
  const opt = (k: string) => m?.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Command[0] ?? '',
    Args: rec.Command.slice(1),
    State: stateOf(rec),
    Image: rec.ImageID,
    ResolvConfPath: etcPath(c, rec, 'resolv.conf'),
    HostnamePath: etcPath(c, rec, 'hostname'),
    HostsPath: etcPath(c, rec, 'hosts'),
    LogPath: rec.LogPath ?? '',
    Name: '/' + rec.Name,
    RestartCount: rec.RestartCount ?? 0,
    Driver: c.images.snapshots.driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: inspectHostConfig(host),
    GraphDriver: { Data: m?.type === 'overlay' ? { LowerDir: opt('lowerdir'), UpperDir: opt('upperdir'), WorkDir: opt('workdir') } : { Dir: m?.source ?? '' }, Name: c.images.snapshots.driver },
    Mounts: mountPoints(rec),
    Config: inspectConfig(configShown(rec, spec)),
    NetworkSettings: networkSettingsOf(c, rec),
    ...(rec.Health ? { Health: rec.Health } : {}),
  };
}

/** inspect's State, as Docker's: a restarting container counts as running, times in Go's form. */
function stateOf(rec: ContainerRecord): ContainerInspect['State'] {
  const st = rec.State;
  const status = dockerStatus(st);
  const running = st.Status === 'running';
  return {
    Status: status,
    Running: running || status === 'restarting',
    Paused: status === 'paused',
    Restarting: status === 'restarting',
    OOMKilled: st.OOMKilled,
    Dead: false,
    Pid: running ? st.Pid : 0,
    ExitCode: st.ExitCode,
    Error: st.Error ?? '',
    StartedAt: goTime(st.StartedAt) ?? GO_ZERO_TIME,
    FinishedAt: goTime(st.FinishedAt) ?? GO_ZERO_TIME,
    ...(rec.Health ? { Health: rec.Health } : {}),
  };
}

/**
 * inspect's NetworkSettings, shaped as Docker's: an endpoint has its addresses while the
 * container runs (none before its first start, none again once it stopped: only the network's
 * id stays), the top-level fields repeat the default bridge's; none and host have an empty one.
 */
function networkSettingsOf(c: ContainerContext, rec: ContainerRecord): NetworkSettings {
  const nets = rec.NetworkSettings?.Networks ?? {};
  const running = rec.State.Status === 'running';
  const started = !!rec.State.StartedAt;
  const mode = rec.NetworkMode ?? 'none';
  const bridged = rec.NetworkSettings !== undefined;
  const up = (v: string | number | undefined, zero: string | number) => (running ? (v ?? zero) : zero);
  const endpoint = (name: string, e: EndpointSettings): EndpointSettings => {
    const aliases = [...(e.Aliases ?? [])];
    // On a user-defined network, dockerd adds the short id to the aliases when it connects.
    if (started && bridged && name !== 'bridge' && !aliases.includes(rec.Id.slice(0, 12))) aliases.push(rec.Id.slice(0, 12));
    return {
      IPAMConfig: e.IPAMConfig ?? null,
      Links: e.Links?.length ? e.Links : null,
      Aliases: aliases.length ? aliases : null,
      NetworkID: started ? (e.NetworkID ?? '') : '',
      EndpointID: up(e.EndpointID, '') as string,
      Gateway: up(e.Gateway, '') as string,
      IPAddress: up(e.IPAddress, '') as string,
      IPPrefixLen: up(e.IPPrefixLen, 0) as number,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: up(e.MacAddress, '') as string,
      DriverOpts: e.DriverOpts ?? null,
    };
  };
  const networks: Record<string, EndpointSettings> = bridged
    ? Object.fromEntries(Object.entries(nets).map(([name, e]) => [name, endpoint(name, e)]))
    : mode.startsWith('container:')
      ? {}
      : { [mode]: endpoint(mode, {}) };
  const def = networks['bridge'];
  return {
    Bridge: '',
    SandboxID: started && bridged ? rec.Id : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: running ? portMap(rec.PortsUp ?? []) : {},
    SandboxKey: started && bridged ? join(c.opts.runroot, 'netns', rec.Id) : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: def?.EndpointID ?? '',
    Gateway: def?.Gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: def?.IPAddress ?? '',
    IPPrefixLen: def?.IPPrefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: def?.MacAddress ?? '',
    Networks: networks,
  };
}

/** `port`: the published ports of a running container. */
export function ports(c: ContainerContext, nameOrId: string): { hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' }[] {
  const rec = c.store.find(nameOrId);
  return rec.State.Status === 'running' ? (rec.PortsUp ?? []) : [];
}
