/** `volume create|ls|inspect|rm|prune`. */
import type { Command } from 'commander';
import { naturalCompare } from '../lib/natural.js';
import { humanSize } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { labelsColumn, VOLUMES } from './listings.js';
import { renderFormatted } from './output.js';
import { inspectEach } from './inspect.js';
import { collect, eachName, runDefined } from './program.js';

const volumeCommand = (volume: Command, g: GlobalOptions) => {
  const out = (s: string) => void process.stdout.write(s);
  volume.description('manage volumes');
  volume
    .command('create')
    .description('create a volume')
    .argument('[name]')
    .option('--name <name>', 'name of the volume')
    .option('-l, --label <key=value>', 'label', collect, [])
    .option('-d, --driver <driver>', 'local (the only one)', 'local')
    .option('-o, --opt <key=value>', 'driver options: type, device and o, as mount(8) takes them', collect, [])
    .action(async (name: string | undefined, o) => {
      const kv = (list: string[]) => Object.fromEntries(list.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      out((await engine(g)).volumes.create({ Name: name ?? o.name, Driver: o.driver, Labels: kv(o.label as string[]), DriverOpts: (o.opt as string[]).length ? kv(o.opt as string[]) : undefined }).Name + '\n');
    });
  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only names')
    .option('-f, --filter <filter>', 'dangling=true|false, name=, label=KEY[=VALUE], driver=', collect, [])
    .option('--format <format>', 'json or a {{.Field}} template')
    .action(async (o) => {
      // The docker CLI sorts by name, numbers in names by value.
      const vols = (await engine(g)).volumes.list({ filters: o.filter as string[] }).sort((a, b) => naturalCompare(a.Name, b.Name));
      if (o.quiet && (!o.format || o.format === 'table')) return out(vols.map((v) => v.Name + '\n').join(''));
      // Docker's fields, in the order of its JSON.
      const rows = vols.map((v) => ({
        Availability: 'N/A',
        Driver: v.Driver,
        Group: 'N/A',
        Labels: labelsColumn(v.Labels ?? undefined),
        Links: 'N/A',
        Mountpoint: v.Mountpoint,
        Name: v.Name,
        Scope: v.Scope,
        Size: 'N/A',
        Status: 'N/A',
        Label: (name: string) => v.Labels?.[name] ?? '',
      }));
      out(renderFormatted(o.format, rows, VOLUMES));
    });
  volume
    .command('inspect')
    .description('details of volumes, as JSON')
    .argument('<name...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .action(async (names: string[], o) => {
      const { volumes } = await engine(g);
      await inspectEach(names, (n) => volumes.inspect(n), o.format, { type: 'volume.Volume', rawFallback: false });
    });
  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes (not while a container uses them)')
    .argument('<name...>')
    .option('-f, --force', 'no error for a volume that is not there')
    .action(async (names: string[], o) => {
      const { volumes } = await engine(g);
      await eachName(names, (n) => volumes.remove(n, { force: o.force === true }));
    });
  volume
    .command('prune')
    .description('remove volumes no container uses')
    .option('-a, --all', 'named ones too (by default only anonymous ones, as Docker 23+)')
    .option('-f, --force', 'do not ask for confirmation (the only mode yet)')
    .action(async (o) => {
      const r = (await engine(g)).volumes.prune({ all: o.all === true });
      out((r.deleted.length ? 'Deleted Volumes:\n' + r.deleted.map((n) => n + '\n').join('') + '\n' : '') + `Total reclaimed space: ${humanSize(r.reclaimed, 4)}\n`);
    });
};

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { volume: volumeCommand });
}
