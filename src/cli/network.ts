/** `network create|ls|inspect|rm|connect|disconnect|prune`. */
import type { Command } from 'commander';
import type { api } from '../engine/index.js';
import { invalidArgument, isBerthError, notFound } from '../lib/errors.js';
import { naturalCompare } from '../lib/natural.js';
import { goTime } from '../lib/units.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { labelsColumn, NETWORKS } from './listings.js';
import { renderFormatted } from './output.js';
import { inspectEach } from './inspect.js';
import { collect, eachName, runDefined } from './program.js';

const out = (s: string) => void process.stdout.write(s);

/** `--label k=v` and `-o k=v` lists as Docker's CLI sends them (a key alone: the empty value). */
function keyValues(list: string[], what: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i === 0) throw invalidArgument(`invalid ${what} ${JSON.stringify(l)}: use key=value`);
    r[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return r;
}

const network = (network: Command, g: GlobalOptions) => {
  const networks = async () => (await engine(g)).networks;
  network.description('manage networks');
  network
    .command('create')
    .description('create a bridge network')
    .argument('<name>')
    .option('-d, --driver <driver>', 'bridge (the only one)', 'bridge')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.90.5.0/24 (default: a free one)')
    .option('--gateway <ip>', 'gateway address in the subnet (default: its first address)')
    .option('--internal', 'no traffic to or from outside the network')
    .option('--label <key=value>', 'label', collect, [])
    .option('-o, --opt <key=value>', 'com.docker.network.driver.mtu, com.docker.network.bridge.name', collect, [])
    .action(async (name: string, o) => {
      const req: api.NetworkCreateRequest = {
        Name: name,
        Driver: o.driver,
        Internal: o.internal === true,
        Labels: keyValues(o.label, 'label'),
        Options: keyValues(o.opt, 'option'),
        ...(o.subnet !== undefined || o.gateway !== undefined ? { IPAM: { Driver: 'default', Config: [{ Subnet: o.subnet, Gateway: o.gateway }] } } : {}),
      };
      out((await (await networks()).create(req)).Id + '\n');
    });
  network
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'do not truncate ids')
    .option('--format <format>', 'json or a {{.Field}} template')
    .option('-f, --filter <filter>', 'name=, id=, label=, driver=, scope=, type=custom|builtin, dangling=true|false', collect, [])
    .action(async (o) => {
      const list = (await (await networks()).list({ filters: o.filter as string[] })).sort((a, b) => naturalCompare(a.Name, b.Name));
      // Docker's fields, in the order of its JSON.
      const rows = list.map((n) => ({
        CreatedAt: goTime(n.Created),
        Driver: n.Driver,
        ID: o.trunc === false ? n.Id : n.Id.slice(0, 12),
        IPv4: 'false',
        IPv6: String(n.EnableIPv6),
        Internal: String(n.Internal),
        Labels: labelsColumn(n.Labels),
        Name: n.Name,
        Scope: n.Scope,
        Label: (name: string) => n.Labels[name] ?? '',
      }));
      if (o.quiet && (!o.format || o.format === 'table')) return out(rows.map((r) => r.ID + '\n').join(''));
      out(renderFormatted(o.format, rows, NETWORKS));
    });
  network
    .command('inspect')
    .description('details of networks, as JSON')
    .argument('<network...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .action(async (names: string[], o) => {
      const n = await networks();
      await inspectEach(names, (name) => n.inspect(name), o.format);
    });
  network
    .command('rm')
    .alias('remove')
    .description('remove networks (none that a container is on)')
    .argument('<network...>')
    .action(async (names: string[]) => {
      const n = await networks();
      // (The docker 28 CLI prints the daemon's "network X not found"; the 20.10 one said "No such network".)
      await eachName(names, (name) => n.remove(name));
    });
  network
    .command('connect')
    .description('connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <name>', 'another name of the container on that network', collect, [])
    .option('--ip <address>', 'IPv4 address')
    .action(async (net: string, c: string, o) => {
      await (await networks()).connect(net, c, { ip: o.ip, aliases: o.alias });
    });
  network
    .command('disconnect')
    .description('disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'accepted for docker compatibility')
    .action(async (net: string, c: string) => {
      await (await networks()).disconnect(net, c);
    });
  network
    .command('prune')
    .description('remove networks no container uses; clean what crashed containers left')
    .option('-f, --force', 'do not ask for confirmation (the only mode yet)')
    .option('--filter <filter>', 'label=KEY[=VALUE]', collect, [])
    .action(async (o) => {
      const gone = await (await networks()).prune({ filters: o.filter as string[] });
      if (gone.length) out(`Deleted Networks:\n${gone.map((n) => n + '\n').join('')}`);
    });
};

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { network });
}
