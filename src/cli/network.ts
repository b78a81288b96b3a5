/** `network create|ls|inspect|rm|connect|disconnect|prune`, `port`, `info` (`system prune` is in images.ts). */
import { invalidArgument } from '../lib/errors.js';
import { engine, rootDir, runrootDir, type GlobalOptions } from './context.js';
import { exitCodeFor } from './exit.js';
import { renderFormatted, renderTable } from './output.js';
import { ExitCode, newProgram, runProgram } from './program.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export async function run(argv: string[], g: GlobalOptions): Promise<number> {
  const program = newProgram();
  const out = (s: string) => void process.stdout.write(s);
  const services = async () => {
    const { containers } = await engine(g);
    return { containers, networks: await containers.networks() };
  };

  const network = program.command('network').description('manage networks');
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
      const { networks } = await services();
      out(networks.create(name, { subnet: o.subnet, gateway: o.gateway, internal: o.internal === true, labels: o.label, options: o.opt, driver: o.driver }).Id + '\n');
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
      const { networks } = await services();
      networks.find('bridge'); // the default network exists once someone looks
      const id = (s: string) => (o.trunc === false ? s : s.slice(0, 12));
      // As Docker: values of one key are alternatives, different keys must all hold.
      const filters = new Map<string, string[]>();
      for (const f of o.filter as string[]) {
        const i = f.indexOf('=');
        const k = f.slice(0, i);
        if (i <= 0 || !['name', 'id', 'label', 'driver', 'scope', 'type', 'dangling'].includes(k)) throw invalidArgument(`invalid filter ${JSON.stringify(f)} (name=, id=, label=, driver=, scope=, type=, dangling=)`);
        const v = f.slice(i + 1);
        if (k === 'type' && v !== 'custom' && v !== 'builtin') throw invalidArgument(`invalid filter ${JSON.stringify(f)}: type is custom or builtin`);
        if (k === 'dangling' && !['true', 'false', '1', '0'].includes(v)) throw invalidArgument(`invalid filter ${JSON.stringify(f)}: dangling is true or false`);
        filters.set(k, [...(filters.get(k) ?? []), v]);
      }
      const rows = [
        ...networks.list().map((n) => ({ ID: id(n.Id), Name: n.Name, Driver: n.Driver, Scope: 'local', Internal: n.Internal, Labels: n.Labels, builtin: n.Name === 'bridge', used: Object.keys(n.Endpoints).length > 0 })),
        { ID: id('0'.repeat(64)), Name: 'host', Driver: 'host', Scope: 'local', Internal: false, Labels: {}, builtin: true, used: false },
        { ID: id('f'.repeat(64)), Name: 'none', Driver: 'null', Scope: 'local', Internal: false, Labels: {}, builtin: true, used: false },
      ].filter((r) =>
        [...filters].every(([k, vs]) =>
          vs.some((v) => {
            if (k === 'name') return r.Name.includes(v);
            if (k === 'id') return r.ID.startsWith(v);
            if (k === 'driver') return r.Driver === v;
            if (k === 'scope') return r.Scope === v;
            if (k === 'type') return (v === 'builtin') === r.builtin;
            if (k === 'dangling') return (v === 'true' || v === '1') === (!r.builtin && !r.used);
            const [lk, lv] = v.split('=', 2) as [string, string?];
            return lk in r.Labels && (lv === undefined || (r.Labels as Record<string, string>)[lk] === lv);
          }),
        ),
      )
        .map(({ builtin: _b, used: _u, ...r }) => r);
      if (o.quiet) return out(rows.map((r) => r.ID + '\n').join(''));
      if (o.format) return out(renderFormatted(o.format, rows));
      out(renderTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows.map((r) => [r.ID, r.Name, r.Driver, r.Scope])));
    });
  network
    .command('inspect')
    .description('details of networks, as JSON')
    .argument('<network...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .action(async (names: string[], o) => {
      const { networks, containers } = await services();
      const items = names.map((n) => {
        const r = networks.find(n);
        const s = r.Subnet.split('/')[1];
        return {
          Name: r.Name,
          Id: r.Id,
          Created: r.Created,
          Scope: 'local',
          Driver: r.Driver,
          EnableIPv6: false,
          IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: r.Subnet, Gateway: r.Gateway }] },
          Internal: r.Internal,
          Attachable: false,
          Ingress: false,
          Containers: Object.fromEntries(
            Object.entries(r.Endpoints).map(([cid, e]) => [cid, { Name: e.Name, MacAddress: e.MacAddress, IPv4Address: `${e.IPAddress}/${s}`, IPv6Address: '', Aliases: e.Aliases, Running: containers.isRunning(cid) }]),
          ),
          Options: { 'com.docker.network.bridge.name': r.Bridge, 'com.docker.network.driver.mtu': String(r.MTU), ...r.Options },
          Labels: r.Labels,
        };
      });
      if (o.format) out(renderFormatted(o.format, items));
      else out(JSON.stringify(items, null, 4) + '\n');
    });
  network
    .command('rm')
    .alias('remove')
    .description('remove networks (none that a container is on)')
    .argument('<network...>')
    .action(async (names: string[]) => {
      const { networks } = await services();
      let failed: unknown;
      for (const n of names) {
        try {
          networks.remove(n);
          out(n + '\n');
        } catch (e) {
          failed = e;
          process.stderr.write(`berth: ${(e as Error).message}\n`);
        }
      }
      if (failed) throw new ExitCode(exitCodeFor(failed));
    });
  network
    .command('connect')
    .description('connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <name>', 'another name of the container on that network', collect, [])
    .option('--ip <address>', 'IPv4 address')
    .action(async (net: string, c: string, o) => {
      const { containers } = await services();
      await containers.connect(net, c, { ip: o.ip, aliases: o.alias });
    });
  network
    .command('disconnect')
    .description('disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'accepted for docker compatibility')
    .action(async (net: string, c: string) => {
      const { containers } = await services();
      await containers.disconnect(net, c);
    });
  network
    .command('prune')
    .description('remove networks no container uses; clean what crashed containers left')
    .option('-f, --force', 'do not ask for confirmation (the only mode yet)')
    .option('--filter <filter>', 'label=KEY[=VALUE]', collect, [])
    .action(async (o) => {
      const { networks, containers } = await services();
      const labels = (o.filter as string[]).map((f) => {
        const m = /^label=([^=]+)(?:=(.*))?$/.exec(f);
        if (!m) throw invalidArgument(`invalid filter ${JSON.stringify(f)} (label=KEY[=VALUE])`);
        return [m[1]!, m[2]] as const;
      });
      const gone = networks.prune((id) => containers.isRunning(id), labels.length ? (l) => labels.every(([k, v]) => k in l && (v === undefined || l[k] === v)) : undefined, (id) => containers.exists(id));
      if (gone.length) out(`Deleted Networks:\n${gone.map((n) => n + '\n').join('')}`);
    });

  program
    .command('port')
    .description("a container's published ports")
    .argument('<container>')
    .argument('[private-port]')
    .action(async (c: string, priv: string | undefined) => {
      const { containers } = await engine(g);
      let ports = containers.ports(c);
      if (priv !== undefined) {
        const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(priv);
        if (!m) throw invalidArgument(`invalid port ${JSON.stringify(priv)}: use PORT[/tcp|udp]`);
        ports = ports.filter((p) => p.containerPort === Number(m[1]) && p.proto === (m[2] ?? 'tcp'));
        if (ports.length === 0) throw invalidArgument(`no public port '${priv}' published for ${c}`);
        return out(ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`).join(''));
      }
      out(ports.map((p) => `${p.containerPort}/${p.proto} -> ${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`).join(''));
    });

  program
    .command('info')
    .description('how berth is set up on this host')
    .option('-f, --format <format>', 'json or a {{.Field}} template')
    .action(async (o) => {
      const { networks, containers } = await services();
      const all = containers.list();
      const info = {
        Containers: all.length,
        ContainersRunning: all.filter((c) => c.State.Status === 'running').length,
        DockerRootDir: rootDir(g),
        RunRoot: runrootDir(g),
        Firewall: networks.firewallBackend(),
        PortsAtConnect: networks.localPortsCgroup() ?? '',
        Networks: networks.list().map((n) => `${n.Name} (${n.Bridge}, ${n.Subnet})`),
      };
      if (o.format) return out(renderFormatted(o.format, [info]));
      out(
        `Containers: ${info.Containers}\n Running: ${info.ContainersRunning}\nRoot Dir: ${info.DockerRootDir}\nRun Root: ${info.RunRoot}\n` +
          `Network:\n Firewall: ${info.Firewall}${info.Firewall === 'none' ? ' (nothing masqueraded or isolated by berth; published ports through a userland proxy)' : ''}\n` +
          (info.PortsAtConnect ? ` Published ports from this host: TCP redirected at connect() (cgroup programs on ${info.PortsAtConnect})\n` : '') +
          ` Bridges: ${info.Networks.join(', ') || '(none yet)'}\n`,
      );
    });

  return runProgram(program, argv);
}
