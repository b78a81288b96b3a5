/**
 * A container's Config and HostConfig as dockerd keeps them: the request's Config merged with the
 * image's (dockerd's merge: the user's value, else the image's; the user's Env first, then the
 * image's variables the user did not set), the request's HostConfig with the daemon's defaults
 * filled in (MemorySwap twice Memory, a PidsLimit of 0 or less unlimited, ShmSize 64 MiB, ...),
 * and both in inspect's full shape, every field in Docker's order with Docker's zero values.
 * Also the process environment Docker derives from them.
 */
import type { ContainerConfig, HealthConfig, HostConfig, Ulimit } from '../models.js';

/** The Linux default PATH Docker puts first in a process's environment. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The image's config fields the merge reads (the OCI image config's `config`). */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, unknown> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  WorkingDir?: string;
  Volumes?: Record<string, unknown> | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  OnBuild?: string[] | null;
}

const keyOf = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

/** Config.Env as dockerd merges it: the user's variables in their order, then the image's the user did not name. */
export function mergeEnv(user: readonly string[] | null | undefined, image: readonly string[] | null | undefined): string[] {
  const own = [...(user ?? [])];
  if (!own.length) return [...(image ?? [])];
  const named = new Set(own.map(keyOf));
  return [...own, ...(image ?? []).filter((e) => !named.has(keyOf(e)))];
}

/**
 * Docker's ReplaceOrAppendEnvValues: each "K=v" of `overrides` replaces K in `defaults` (or an
 * earlier override) or is appended; a bare "K" removes K from the defaults.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const at = new Map(defaults.map((e, i) => [keyOf(e), i]));
  for (const e of overrides) {
    const i = at.get(keyOf(e));
    if (!e.includes('=')) {
      if (i !== undefined) out[i] = undefined;
    } else if (i !== undefined) out[i] = e;
    else {
      // (A name given twice is there once, its last value: what dockerd's containers get.)
      at.set(keyOf(e), out.length);
      out.push(e);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}

/**
 * A process's environment as Docker builds it: PATH, HOSTNAME (and TERM with a terminal, then the
 * links' variables), overridden by Config.Env.
 */
export function processEnv(configEnv: readonly string[], x: { hostname: string; tty?: boolean; linkEnv?: readonly string[] }): string[] {
  return replaceOrAppendEnv([DEFAULT_PATH, `HOSTNAME=${x.hostname}`, ...(x.tty ? ['TERM=xterm'] : []), ...(x.linkEnv ?? [])], configEnv);
}

const some = <T>(v: T[] | null | undefined): v is T[] => Array.isArray(v) && v.length > 0;

/** dockerd's merge of the image's config into the request's Config (hostname given by the caller: the id's first 12, the host's, ...). */
export function mergeConfig(user: ContainerConfig, image: ImageRunConfig, hostname: string): ContainerConfig {
  const c: ContainerConfig = { ...user, Hostname: user.Hostname || hostname };
  if (!c.User) c.User = image.User ?? '';
  const exposed = { ...(image.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) } as Record<string, Record<string, never>>;
  if (Object.keys(exposed).length) c.ExposedPorts = exposed;
  c.Env = mergeEnv(user.Env, image.Env);
  c.Labels = { ...(image.Labels ?? {}), ...(user.Labels ?? {}) };
  // --entrypoint "": no entrypoint (dockerd keeps it as null), and no Cmd of the image.
  if (user.Entrypoint?.length === 1 && user.Entrypoint[0] === '') c.Entrypoint = null;
  else if (!some(user.Entrypoint)) {
    if (!some(user.Cmd)) {
      c.Cmd = image.Cmd ?? null;
      if (image.ArgsEscaped) c.ArgsEscaped = true;
    }
    if (user.Entrypoint === undefined || user.Entrypoint === null) c.Entrypoint = image.Entrypoint ?? null;
  }
  const ih = image.Healthcheck ?? undefined;
  if (!user.Healthcheck) {
    if (ih) c.Healthcheck = ih;
  } else if (ih) {
    const h = { ...user.Healthcheck };
    if (!some(h.Test)) h.Test = ih.Test;
    if (!h.Interval) h.Interval = ih.Interval;
    if (!h.Timeout) h.Timeout = ih.Timeout;
    if (!h.StartPeriod) h.StartPeriod = ih.StartPeriod;
    if (!h.Retries) h.Retries = ih.Retries;
    c.Healthcheck = h;
  }
  if (!c.WorkingDir) c.WorkingDir = image.WorkingDir ?? '';
  const volumes = { ...(image.Volumes ?? {}), ...(user.Volumes ?? {}) } as Record<string, Record<string, never>>;
  c.Volumes = Object.keys(volumes).length ? volumes : null;
  if (!c.StopSignal && image.StopSignal) c.StopSignal = image.StopSignal;
  if (image.OnBuild?.length && !c.OnBuild) c.OnBuild = image.OnBuild;
  return c;
}

/**
 * The request's HostConfig with dockerd's defaults (Linux, API 1.41): as it is stored and shown.
 * `privileged` masks and read-only paths none; `masked`/`readonly` are the defaults otherwise.
 */
export function hostConfigDefaults(h: HostConfig, x: { masked: readonly string[]; readonly: readonly string[]; cgroupns: 'host' | 'private' }): HostConfig {
  const out: HostConfig = { ...h };
  if (!out.NetworkMode) out.NetworkMode = 'default';
  if (!out.IpcMode) out.IpcMode = 'private';
  if (!out.CgroupnsMode) out.CgroupnsMode = x.cgroupns;
  if (!out.ShmSize) out.ShmSize = 64 * 1024 * 1024;
  if (!out.Runtime) out.Runtime = 'runc';
  if (!out.LogConfig?.Type) out.LogConfig = { Type: 'json-file', Config: out.LogConfig?.Config ?? {} };
  if (out.Memory && out.Memory > 0 && !out.MemorySwap) out.MemorySwap = out.Memory * 2;
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  if (out.PidsLimit !== undefined && out.PidsLimit !== null && out.PidsLimit <= 0) out.PidsLimit = null;
  // (dockerd turns SELinux labels off for these, and says so.)
  if (out.Privileged || out.IpcMode === 'host' || out.PidMode === 'host') out.SecurityOpt = [...(out.SecurityOpt ?? []), 'label=disable'];
  if (out.Privileged) {
    out.MaskedPaths = out.MaskedPaths ?? null;
    out.ReadonlyPaths = out.ReadonlyPaths ?? null;
  } else {
    out.MaskedPaths = out.MaskedPaths ?? [...x.masked];
    out.ReadonlyPaths = out.ReadonlyPaths ?? [...x.readonly];
  }
  return out;
}

const nullIfEmpty = <T>(v: T[] | null | undefined): T[] | null => (some(v) ? v : null);

/** Config in inspect's shape: Docker's field order and zero values. */
export function inspectConfig(c: ContainerConfig): ContainerConfig {
  return {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin === true,
    AttachStdout: c.AttachStdout === true,
    AttachStderr: c.AttachStderr === true,
    ...(c.ExposedPorts && Object.keys(c.ExposedPorts).length ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: c.Tty === true,
    OpenStdin: c.OpenStdin === true,
    StdinOnce: c.StdinOnce === true,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    ...(c.ArgsEscaped ? { ArgsEscaped: true } : {}),
    Image: c.Image ?? '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    ...(c.NetworkDisabled ? { NetworkDisabled: true } : {}),
    ...(c.MacAddress ? { MacAddress: c.MacAddress } : {}),
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? {},
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.StopTimeout !== undefined && c.StopTimeout !== null ? { StopTimeout: c.StopTimeout } : {}),
    ...(some(c.Shell) ? { Shell: c.Shell } : {}),
  };
}

/** Ulimits as Docker prints them (Name, Hard, Soft). */
const ulimitOut = (u: Ulimit) => ({ Name: u.Name, Hard: u.Hard, Soft: u.Soft });

/** HostConfig in inspect's shape: Docker's field order and zero values. */
export function inspectHostConfig(h: HostConfig): HostConfig & Record<string, unknown> {
  return {
    Binds: nullIfEmpty(h.Binds),
    ContainerIDFile: h.ContainerIDFile ?? '',
    LogConfig: { Type: h.LogConfig?.Type ?? 'json-file', Config: h.LogConfig?.Config ?? {} },
    NetworkMode: h.NetworkMode ?? 'default',
    PortBindings: h.PortBindings ?? {},
    RestartPolicy: { Name: h.RestartPolicy?.Name || 'no', MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0 },
    AutoRemove: h.AutoRemove === true,
    VolumeDriver: h.VolumeDriver ?? '',
    VolumesFrom: nullIfEmpty(h.VolumesFrom),
    CapAdd: nullIfEmpty(h.CapAdd),
    CapDrop: nullIfEmpty(h.CapDrop),
    CgroupnsMode: h.CgroupnsMode ?? '',
    Dns: h.Dns ?? [],
    DnsOptions: h.DnsOptions ?? [],
    DnsSearch: h.DnsSearch ?? [],
    ExtraHosts: nullIfEmpty(h.ExtraHosts),
    GroupAdd: nullIfEmpty(h.GroupAdd),
    IpcMode: h.IpcMode ?? '',
    Cgroup: h.Cgroup ?? '',
    Links: nullIfEmpty(h.Links),
    OomScoreAdj: h.OomScoreAdj ?? 0,
    PidMode: h.PidMode ?? '',
    Privileged: h.Privileged === true,
    PublishAllPorts: h.PublishAllPorts === true,
    ReadonlyRootfs: h.ReadonlyRootfs === true,
    SecurityOpt: nullIfEmpty(h.SecurityOpt),
    ...(h.StorageOpt && Object.keys(h.StorageOpt).length ? { StorageOpt: h.StorageOpt } : {}),
    ...(h.Tmpfs && Object.keys(h.Tmpfs).length ? { Tmpfs: h.Tmpfs } : {}),
    UTSMode: h.UTSMode ?? '',
    UsernsMode: h.UsernsMode ?? '',
    ShmSize: h.ShmSize ?? 0,
    ...(h.Sysctls && Object.keys(h.Sysctls).length ? { Sysctls: h.Sysctls } : {}),
    Runtime: h.Runtime ?? '',
    ConsoleSize: h.ConsoleSize ?? [0, 0],
    Isolation: h.Isolation ?? '',
    CpuShares: h.CpuShares ?? 0,
    Memory: h.Memory ?? 0,
    NanoCpus: h.NanoCpus ?? 0,
    CgroupParent: h.CgroupParent ?? '',
    BlkioWeight: h.BlkioWeight ?? 0,
    BlkioWeightDevice: h.BlkioWeightDevice ?? [],
    BlkioDeviceReadBps: nullIfEmpty(h.BlkioDeviceReadBps),
    BlkioDeviceWriteBps: nullIfEmpty(h.BlkioDeviceWriteBps),
    BlkioDeviceReadIOps: nullIfEmpty(h.BlkioDeviceReadIOps),
    BlkioDeviceWriteIOps: nullIfEmpty(h.BlkioDeviceWriteIOps),
    CpuPeriod: h.CpuPeriod ?? 0,
    CpuQuota: h.CpuQuota ?? 0,
    CpuRealtimePeriod: h.CpuRealtimePeriod ?? 0,
    CpuRealtimeRuntime: h.CpuRealtimeRuntime ?? 0,
    CpusetCpus: h.CpusetCpus ?? '',
    CpusetMems: h.CpusetMems ?? '',
    Devices: h.Devices ?? [],
    DeviceCgroupRules: nullIfEmpty(h.DeviceCgroupRules),
    DeviceRequests: nullIfEmpty(h.DeviceRequests),
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: h.MemoryReservation ?? 0,
    MemorySwap: h.MemorySwap ?? 0,
    MemorySwappiness: h.MemorySwappiness ?? null,
    OomKillDisable: h.OomKillDisable === true,
    PidsLimit: h.PidsLimit ?? null,
    Ulimits: some(h.Ulimits) ? h.Ulimits.map(ulimitOut) : null,
    CpuCount: h.CpuCount ?? 0,
    CpuPercent: h.CpuPercent ?? 0,
    IOMaximumIOps: h.IOMaximumIOps ?? 0,
    IOMaximumBandwidth: h.IOMaximumBandwidth ?? 0,
    ...(some(h.Mounts) ? { Mounts: h.Mounts } : {}),
    MaskedPaths: h.MaskedPaths ?? null,
    ReadonlyPaths: h.ReadonlyPaths ?? null,
    ...(h.Init ? { Init: true } : {}),
  };
}
