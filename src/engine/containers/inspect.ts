/** `inspect` in Docker's shape, and `port`. */
import type { ContainerInspect, NetworkSettings } from '../models.js';
import { join } from 'node:path';
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
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Command[0],
    Args: rec.Command.slice(1),
    State: stateOf(rec),
    Image: rec.ImageID,
    Name: '/' + rec.Name,
    LogPath: rec.LogPath ?? '',
    Driver: c.images.snapshots.driver,
    Config: { Hostname: spec?.hostname ?? '', Env: spec?.process?.env ?? [], Cmd: rec.Command, Image: rec.Image, WorkingDir: spec?.process?.cwd ?? '/', Labels: spec?.annotations ?? {}, StopSignal: rec.StopSignal ?? 'SIGTERM', Tty: rec.Tty === true, OpenStdin: rec.OpenStdin === true, AttachStdin: false },
    RestartCount: rec.RestartCount ?? 0,
    ...(rec.Health ? { Health: rec.Health } : {}),
    NetworkSettings: networkSettingsOf(c, rec),
    HostConfig: { NetworkMode: rec.NetworkMode ?? 'none', Links: rec.Links ?? null, PortBindings: portMap(rec.NetworkSettings?.Ports ?? []), Dns: rec.NetworkSettings?.Dns ?? [], DnsSearch: rec.NetworkSettings?.DnsSearch ?? [], ExtraHosts: rec.NetworkSettings?.ExtraHosts ?? [], RestartPolicy: rec.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: rec.AutoRemove, ReadonlyRootfs: spec?.root?.readonly === true, Memory: spec?.linux?.resources?.memory?.limit ?? 0, PidsLimit: spec?.linux?.resources?.pids?.limit ?? 0 },
    Mounts: (rec.Mounts ?? []).map((m) => ({ Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination, RW: m.RW })),
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

/** inspect's NetworkSettings, shaped as Docker's (top-level IPAddress for the default bridge). */
function networkSettingsOf(c: ContainerContext, rec: ContainerRecord): NetworkSettings {
  const nets = rec.NetworkSettings?.Networks ?? {};
  const running = rec.State.Status === 'running';
  const def = nets['bridge'];
  return {
    Bridge: '',
    SandboxKey: running && rec.NetworkSettings ? join(c.opts.runroot, 'netns', rec.Id) : '',
    Ports: running ? portMap(rec.PortsUp ?? []) : {},
    IPAddress: def?.IPAddress ?? '',
    IPPrefixLen: def?.IPPrefixLen ?? 0,
    Gateway: def?.Gateway ?? '',
    MacAddress: def?.MacAddress ?? '',
    Networks: Object.fromEntries(Object.entries(nets).map(([name, e]) => [name, { IPAMConfig: null, Links: null, ...e, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: [rec.Name, rec.Id.slice(0, 12), ...e.Aliases] }])),
  };
}

/** `port`: the published ports of a running container. */
export function ports(c: ContainerContext, nameOrId: string): { hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' }[] {
  const rec = c.store.find(nameOrId);
  return rec.State.Status === 'running' ? (rec.PortsUp ?? []) : [];
}
