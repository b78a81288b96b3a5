/** `system prune`, `system df` and `info`. */
import type { Command } from 'commander';
import { humanSize } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { DISK_USAGE } from './listings.js';
import { printObject, renderFormatted } from './output.js';
import { confirm, runDefined } from './program.js';

const out = (s: string) => void process.stdout.write(s);

const system = (cmd: Command, g: GlobalOptions) => {
  cmd.description('manage berth');
  cmd
    .command('prune')
    .description('remove stopped containers, unused networks, dangling images (all unused with -a) and the build cache; clean what crashed containers left of their networks')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (o) => {
      if (!o.force && !(await confirm(`This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all ${o.all ? 'images without at least one container associated to them' : 'dangling images'}\n  - all build cache`))) return;
      const r = await (await engine(g)).system.prune({ all: o.all === true });
      if (r.containers.length) out(`Deleted Containers:\n${r.containers.map((id) => id + '\n').join('')}\n`);
      if (r.networks.length) out(`Deleted Networks:\n${r.networks.map((n) => n + '\n').join('')}\n`);
      if (r.images.length) out(`Deleted Images:\n${r.images.map((id) => `deleted: ${id}\n`).join('')}\n`);
      out(`Deleted build cache records: ${r.buildCacheRecords}\nTotal reclaimed space: ${humanSize(r.reclaimed, 4)}\n`);
    });
  cmd
    .command('reset')
    .description("remove every container, network, volume, image and the build cache of this root, and the root itself")
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (o) => {
      const e = await engine(g);
      if (!o.force && !(await confirm(`This will remove every container, network, volume, image and the build cache of ${e.root}, and the directories ${e.root} and ${e.runroot}'s berth state`))) return;
      await e.system.reset();
    });
  cmd
    .command('df')
    .description('show disk usage')
    .option('--format <format>', 'json or a {{.Field}} template')
    .action(async (o) => {
      const d = await (await engine(g)).system.df();
      const row = (Type: string, u: { count: number; active: number; size: number; reclaimable: number }) => ({
        Type,
        TotalCount: String(u.count),
        Active: String(u.active),
        Size: humanSize(u.size, 4),
        Reclaimable: `${humanSize(u.reclaimable, 4)} (${u.size ? Math.round((100 * u.reclaimable) / u.size) : 0}%)`,
      });
      // Docker prints the build cache's reclaimable bytes without a percentage.
      const rows = [row('Images', d.images), row('Containers', d.containers), row('Local Volumes', d.volumes), { ...row('Build Cache', d.buildCache), Reclaimable: humanSize(d.buildCache.reclaimable, 4) }];
      out(renderFormatted(o.format, rows, DISK_USAGE));
    });
};

const info = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('how berth is set up on this host')
    .option('-f, --format <format>', 'json or a {{.Field}} template')
    .action(async (o) => {
      const info = await (await engine(g)).system.info();
      if (o.format) return printObject(o.format, info, { type: 'system.dockerInfo' });
      out(
        `Containers: ${info.Containers}\n Running: ${info.ContainersRunning}\nRoot Dir: ${info.DockerRootDir}\nRun Root: ${info.RunRoot}\n` +
          `Network:\n Firewall: ${info.Firewall}${info.Firewall === 'none' ? ' (nothing masqueraded or isolated by berth; published ports through a userland proxy)' : ''}\n` +
          (info.PortsAtConnect ? ` Published ports from this host: TCP redirected at connect() (cgroup programs on ${info.PortsAtConnect})\n` : '') +
          ` Bridges: ${info.Networks.join(', ') || '(none yet)'}\n` +
          `Cgroups: ${info.CgroupLayout}\n` +
          (info.HostLacks.length ? `Host lacks:\n${info.HostLacks.map((l) => ` ${l}\n`).join('')}` : ''),
      );
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { system, info });
}
