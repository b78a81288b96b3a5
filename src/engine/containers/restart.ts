/** Restart policies (`--restart`) and what the monitor runs when a detached container ended. */
import { invalidArgument } from '../../lib/errors.js';
import type { ContainerContext } from './context.js';
import { releaseVolumes } from './volume-mounts.js';
import { remove, start } from './lifecycle.js';
import type { RestartPolicy } from '../models.js';
import type { ContainerRecord } from './types.js';

const POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'];

/** A request's RestartPolicy as the record keeps it (checked: a retry count is for on-failure only). */
export function restartPolicyOf(p: RestartPolicy | undefined): NonNullable<ContainerRecord['RestartPolicy']> {
  const name = p?.Name || 'no';
  const max = p?.MaximumRetryCount ?? 0;
  const text = max ? `${name}:${max}` : name;
  if (!POLICIES.includes(name) || !(Number.isInteger(max) && max >= 0) || (max > 0 && name !== 'on-failure')) throw invalidArgument(`invalid restart policy ${JSON.stringify(text)} (no, always, unless-stopped, on-failure[:max-retries])`);
  return { Name: name as 'no', MaximumRetryCount: max };
}

/**
 * What the monitor runs when a detached container ended: clears the runtime's state and, as
 * its restart policy says, starts it again (with a growing delay: 100 ms doubling, at most 2 s).
 */
export async function cleanup(c: ContainerContext, nameOrId: string, netToken?: string): Promise<void> {
  let rec: ContainerRecord;
  try {
    rec = c.store.find(nameOrId);
  } catch {
    return; // removed meanwhile
  }
  if (rec.State.Status === 'running') return;
  // Started again meanwhile (restart, start): this cleanup's run is over and done with.
  if (netToken !== undefined && rec.NetToken !== netToken) return;
  if (c.runtime.exists(rec.Id)) await c.runtime.delete(rec.Id, true).catch(() => {});
  // (Not saved: rm may be removing the record right now; PortsUp counts only while running.)
  if (rec.NetworkSettings) (await c.networks()).down(rec.Id, netToken ?? rec.NetToken ?? '');
  if (rec.IdShift) await c.unmountRootfs(rec.Id);
  await releaseVolumes(c, rec);
  if (rec.AutoRemove) {
    await remove(c, rec.Id, true, true);
    return;
  }
  const p = rec.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
  if (p.Name === 'no' || rec.ManuallyStopped) return;
  const count = rec.RestartCount ?? 0;
  if (p.Name === 'on-failure' && (rec.State.ExitCode === 0 || (p.MaximumRetryCount > 0 && count >= p.MaximumRetryCount))) return;
  // Between two runs it is "restarting" (Docker's State.Restarting), until started or stopped.
  c.store.update(rec.Id, (cur) => {
    if (!cur.ManuallyStopped && cur.State.Status !== 'running') cur.State.Restarting = true;
  });
  await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** count, 2000)));
  const again = c.store.find(rec.Id);
  if (again.ManuallyStopped || again.State.Status === 'running') return;
  // Counted under the record's lock, and not when a stop came in meanwhile.
  let go = false;
  c.store.update(again.Id, (cur) => {
    if (cur.ManuallyStopped || cur.State.Status === 'running') return;
    cur.RestartCount = count + 1;
    go = true;
  });
  if (go) await start(c, again.Id, { byPolicy: true });
}
