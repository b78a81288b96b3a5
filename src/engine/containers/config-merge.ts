/**
 * A config in dockerd's container.Config shape, as `commit` records it and `image inspect` shows
 * it. (The container's own config is merged at create, containers/config.ts.)
 */
import type { ContainerConfig } from '../../image/index.js';

const some = <T>(x: T[] | null | undefined): T[] | undefined => (x && x.length ? x : undefined);

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
