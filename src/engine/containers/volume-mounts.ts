/**
 * Volumes with a file system of their own (the local driver's `type`/`device`/`o` options, such
 * as a tmpfs or a bind of a host directory): mounted on the volume's directory when a container
 * using it starts, and unmounted when the last running container using it has stopped, as
 * Docker's local driver does. Plain volumes need neither.
 */
import type { ContainerContext } from './context.js';
import type { ContainerRecord } from './types.js';

const mountedVolumes = (rec: ContainerRecord) => (rec.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name !== undefined).map((m) => m.Name!);

export async function mountVolumes(c: ContainerContext, rec: ContainerRecord): Promise<void> {
  for (const name of mountedVolumes(rec)) if (c.volumes.hasMount(name)) await c.volumes.mount(name);
}

/** After `rec` stopped: unmounts its volumes that no other running container uses. */
export async function releaseVolumes(c: ContainerContext, rec: ContainerRecord): Promise<void> {
  const names = mountedVolumes(rec).filter((n) => c.volumes.hasMount(n));
  if (!names.length) return;
  const others = c.store.list().filter((o) => o.Id !== rec.Id && o.State.Status === 'running');
  for (const n of names) if (!others.some((o) => mountedVolumes(o).includes(n))) await c.volumes.unmount(n);
}
