/**
 * Containers of the runtime that no record names: what a berth killed at the wrong instant leaves
 * (a `run` killed while its container was being made, an `rm` killed after the record went).
 * A record is always written before its runtime state and removed after it, so runtime state of
 * a container id with no record is an orphan, whoever made it: it is deleted (its processes
 * killed, its cgroup and state removed), with the network namespace, addresses and bundle it had.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerContext } from './context.js';

export async function sweepOrphans(c: ContainerContext): Promise<string[]> {
  const gone: string[] = [];
  // Names only (two directory listings): cheap enough for every rm, also with many containers.
  const list = (dir: string, re: RegExp) => (existsSync(dir) ? readdirSync(dir) : []).map((n) => re.exec(n)?.[1]).filter((id): id is string => id !== undefined);
  const recorded = new Set(list(c.store.records.dir, /^([0-9a-f]{64})\.json$/));
  for (const id of list(c.runtime.store.root, /^([0-9a-f]{64})$/)) {
    if (recorded.has(id) || c.store.exists(id)) continue;
    // Its processes, killed now, may take a moment to leave the cgroup on a loaded host.
    for (let i = 0; i < 5 && c.runtime.exists(id); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200 * i));
      await c.runtime.delete(id, true).catch(() => {});
    }
    // A create killed before it wrote its state leaves the directory alone (no state: nothing
    // runs for it), and no record names it: it goes too.
    if (!c.runtime.exists(id)) rmSync(join(c.runtime.store.root, id), { recursive: true, force: true });
    gone.push(id);
  }
  // Network state of containers that have no record (the namespace and veths of a killed start).
  for (const id of list(join(c.opts.runroot, 'net'), /^([0-9a-f]{64})\.json$/)) {
    if (recorded.has(id) || c.store.exists(id)) continue;
    const net = await c.networks();
    net.down(id);
    net.release(id);
    rmSync(c.bundleDir(id), { recursive: true, force: true });
    if (!gone.includes(id)) gone.push(id);
  }
  return gone;
}
