/**
 * A container's own config as dockerd keeps it (and `commit` makes an image of): the create
 * request's Config merged over its image's, field by field as dockerd's merge does: the
 * request's env first, then the image's variables it does not set; labels, exposed ports and
 * volumes of both; the image's Cmd only without an entrypoint or command of the request's.
 */
import type { ContainerConfig } from '../../image/index.js';
import type { CreateOptions } from './types.js';

const some = <T>(x: T[] | null | undefined): T[] | undefined => (x && x.length ? x : undefined);
const keyOf = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

/**
 * A config in the shape of dockerd's container.Config, as `docker image inspect` shows an image's
 * Config and ContainerConfig: every field, in its order, null where unset, the omitempty ones
 * (ExposedPorts, Healthcheck, ArgsEscaped, NetworkDisabled, MacAddress, StopSignal, StopTimeout,
 * Shell) left out where empty.
 */
export function dockerConfigShape(c: ContainerConfig): ContainerConfig {
  // Go writes a map's keys sorted.
  const sorted = <T>(m: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const nonEmpty = (m: unknown) => m !== null && m !== undefined && typeof m === 'object' && Object.keys(m).length > 0;
  return {
    Hostname: (c.Hostname as string | undefined) ?? '',
    Domainname: (c.Domainname as string | undefined) ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin === true,
    AttachStdout: c.AttachStdout === true,
    AttachStderr: c.AttachStderr === true,
    ...(nonEmpty(c.ExposedPorts) ? { ExposedPorts: sorted(c.ExposedPorts!) } : {}),
    Tty: c.Tty === true,
    OpenStdin: c.OpenStdin === true,
    StdinOnce: c.StdinOnce === true,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    ...(c.ArgsEscaped ? { ArgsEscaped: true } : {}),
    Image: (c.Image as string | undefined) ?? '',
    Volumes: nonEmpty(c.Volumes) ? sorted(c.Volumes!) : null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    ...(c.NetworkDisabled ? { NetworkDisabled: true } : {}),
    ...(c.MacAddress ? { MacAddress: c.MacAddress } : {}),
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ? sorted(c.Labels) : null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(typeof c.StopTimeout === 'number' ? { StopTimeout: c.StopTimeout } : {}),
    ...(some(c.Shell as string[] | undefined) ? { Shell: c.Shell } : {}),
  };
}

/**
 * The container's config: what create was asked (before berth's own additions, as TERM) over
 * the image's, with the container's hostname, image name and attach flags, as dockerd keeps it.
 */
export function containerConfigOf(o: CreateOptions, image: ContainerConfig, id: string): ContainerConfig {
  const asked = o.env ?? [];
  const env = [...asked, ...(image.Env ?? []).filter((e) => !asked.some((a) => keyOf(a) === keyOf(e)))];
  const anon = (o.volumes ?? []).filter((v) => v.kind === 'volume' && v.source === undefined).map((v) => v.destination);
  const entrypoint = o.entrypoint !== undefined ? o.entrypoint : (image.Entrypoint ?? undefined);
  const cmd = o.command?.length ? o.command : o.entrypoint !== undefined ? undefined : (image.Cmd ?? undefined);
  const volumes = { ...(image.Volumes ?? {}), ...Object.fromEntries(anon.map((d) => [d, {}])) };
  return dockerConfigShape({
    Hostname: o.hostname ?? id.slice(0, 12),
    User: o.user ?? image.User,
    AttachStdin: o.attach?.stdin,
    AttachStdout: o.attach?.stdout,
    AttachStderr: o.attach?.stderr,
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...Object.fromEntries((o.exposed ?? []).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) },
    Tty: o.tty === true,
    OpenStdin: o.interactive === true,
    Env: env,
    Cmd: some(cmd) ?? null,
    Healthcheck: o.health?.Test?.length ? { ...(image.Healthcheck ?? {}), ...o.health } : image.Healthcheck,
    ArgsEscaped: image.ArgsEscaped,
    Image: o.image,
    Volumes: volumes,
    WorkingDir: o.workdir ?? image.WorkingDir,
    Entrypoint: some(entrypoint) ?? null,
    OnBuild: image.OnBuild,
    Labels: { ...(image.Labels ?? {}), ...(o.labels ?? {}) },
    StopSignal: o.stopSignal ?? image.StopSignal,
    Shell: image.Shell,
  });
}
