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

/** Only the fields set, in the OCI image config's order (as `docker image inspect` shows them). */
export function tidyConfig(c: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = {};
  if (c.User) out.User = c.User;
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  if (some(c.Env)) out.Env = c.Env!;
  if (some(c.Entrypoint)) out.Entrypoint = c.Entrypoint!;
  if (some(c.Cmd)) out.Cmd = c.Cmd!;
  if (c.Volumes && Object.keys(c.Volumes).length) out.Volumes = c.Volumes;
  if (c.WorkingDir) out.WorkingDir = c.WorkingDir;
  if (c.Labels && Object.keys(c.Labels).length) out.Labels = c.Labels;
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.ArgsEscaped) out.ArgsEscaped = c.ArgsEscaped;
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (some(c.OnBuild)) out.OnBuild = c.OnBuild!;
  if (some(c.Shell as string[] | undefined)) out.Shell = c.Shell;
  return out;
}

/** The container's config: what create was asked (before berth's own additions, as TERM) over the image's. */
export function containerConfigOf(o: CreateOptions, image: ContainerConfig): ContainerConfig {
  // A bare NAME in the request drops NAME (the CLI sends the host's value, or nothing).
  const asked = (o.env ?? []).filter((e) => e.includes('='));
  const env = [...asked, ...(image.Env ?? []).filter((e) => !asked.some((a) => keyOf(a) === keyOf(e)))];
  const anon = (o.volumes ?? []).filter((v) => v.kind === 'volume' && v.source === undefined).map((v) => v.destination);
  const entrypoint = o.entrypoint !== undefined ? o.entrypoint : (image.Entrypoint ?? undefined);
  const cmd = o.command?.length ? o.command : o.entrypoint !== undefined ? undefined : (image.Cmd ?? undefined);
  return tidyConfig({
    User: o.user ?? image.User,
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...Object.fromEntries((o.exposed ?? []).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) },
    Env: env,
    Entrypoint: entrypoint,
    Cmd: cmd,
    Volumes: { ...(image.Volumes ?? {}), ...Object.fromEntries(anon.map((d) => [d, {}])) },
    WorkingDir: o.workdir ?? image.WorkingDir,
    Labels: { ...(image.Labels ?? {}), ...(o.labels ?? {}) },
    StopSignal: o.stopSignal ?? image.StopSignal,
    ArgsEscaped: image.ArgsEscaped,
    Healthcheck: o.health?.Test?.length ? { ...(image.Healthcheck ?? {}), ...o.health } : image.Healthcheck,
    OnBuild: image.OnBuild,
    Shell: image.Shell,
  });
}
