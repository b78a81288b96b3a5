/**
 * A container's own /etc/hostname, /etc/hosts and /etc/resolv.conf, as Docker gives them, and
 * Docker's legacy links (`--link NAME[:ALIAS]`): an /etc/hosts entry and environment variables.
 */
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument, notFound } from '../../lib/errors.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { hostResolvText, hostsFile, resolvConf } from '../../network/index.js';
import type { NetworkService, NetworkSettings } from '../networks.js';
import { validName } from '../names.js';
import type { ContainerContext } from './context.js';
import type { ContainerRecord, CreateOptions } from './types.js';

export interface LinkTarget {
  name: string;
  alias: string;
  id: string;
  ip: string;
  /** its environment (for ALIAS_ENV_*) */
  env: string[];
  /** its exposed ports, "80/tcp" */
  ports: string[];
}

/**
 * `--link NAME[:ALIAS]`: the container linked to, which must exist and share the network
 * `netName` with the new one (its address there is what the entries give).
 */
export function linkTo(c: ContainerContext, spec: string, netName: string): LinkTarget {
  const [name = '', alias0, extra] = spec.split(':');
  const alias = alias0 || name.replace(/^\//, '');
  if (extra !== undefined || !validName(name.replace(/^\//, '')) || !validName(alias)) throw invalidArgument(`invalid --link ${JSON.stringify(spec)}: NAME or NAME:ALIAS`);
  let other: ContainerRecord;
  try {
    other = c.store.find(name.replace(/^\//, ''));
  } catch {
    throw notFound(`could not get container for ${name}: No such container: ${name}`);
  }
  const ip = other.NetworkSettings?.Networks?.[netName]?.IPAddress;
  if (!ip) throw invalidArgument(`Cannot link to /${other.Name}, as it does not belong to the ${netName === 'bridge' ? 'default network' : `network ${netName}`}`);
  // Its Config.Env, as Docker's ALIAS_ENV_* come from (not the process's HOSTNAME, HOME, TERM).
  let env: string[] = other.Config?.Env ?? [];
  if (!other.Config) {
    try {
      env = c.spec(other.Id).process?.env ?? [];
    } catch {
      /* no bundle: no variables */
    }
  }
  const exposed = Object.keys(((c.images.config(c.images.resolve(other.ImageID)).config ?? {}) as { ExposedPorts?: Record<string, unknown> }).ExposedPorts ?? {});
  const ports = [...new Set([...exposed, ...(other.NetworkSettings?.Ports ?? []).map((p) => `${p.containerPort}/${p.proto}`)])];
  return { name: other.Name, alias, id: other.Id, ip, env, ports };
}

/** Docker's link variables: ALIAS_NAME, ALIAS_PORT (the lowest port), ALIAS_PORT_80_TCP(_ADDR, _PORT, _PROTO), ALIAS_ENV_*. */
function linkEnv(l: LinkTarget, self: string): string[] {
  const p = l.alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const out = [`${p}_NAME=/${self}/${l.alias}`];
  const ports = l.ports
    .map((s) => {
      const [num, proto = 'tcp'] = s.split('/');
      return { num: Number(num), proto };
    })
    .filter((x) => Number.isInteger(x.num) && x.num > 0)
    .sort((a, b) => a.num - b.num || a.proto.localeCompare(b.proto));
  if (ports[0]) out.push(`${p}_PORT=${ports[0].proto}://${l.ip}:${ports[0].num}`);
  for (const { num, proto } of ports) {
    const k = `${p}_PORT_${num}_${proto.toUpperCase()}`;
    out.push(`${k}=${proto}://${l.ip}:${num}`, `${k}_ADDR=${l.ip}`, `${k}_PORT=${num}`, `${k}_PROTO=${proto}`);
  }
  for (const e of l.env) {
    const at = e.indexOf('=');
    const k = e.slice(0, at);
    if (at > 0 && k !== 'HOME' && k !== 'PATH') out.push(`${p}_ENV_${k}=${e.slice(at + 1)}`);
  }
  return out;
}

function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * /etc/hostname, /etc/hosts and /etc/resolv.conf of its own in the bundle, bound into the
 * container (with the host's network: copies of the host's; unless the user mounted their own); the links'
 * entries and variables added. Changes `spec` (its mounts and environment).
 */
export async function writeEtcFiles(
  c: ContainerContext,
  x: { rec: ContainerRecord; spec: Spec; bundle: string; o: CreateOptions; settings?: NetworkSettings; net?: NetworkService; links: LinkTarget[] },
): Promise<void> {
  const { rec, spec, bundle, o, settings } = x;
  const hostNet = !(spec.linux?.namespaces ?? []).some((n) => n.type === 'network');
  const hostname = spec.hostname ?? rec.Id.slice(0, 12);
  // Without a network of berth's (none, container:) and no DNS flags: localhost, the host's resolvers.
  let hosts = hostsFile({ hostname });
  let resolv = resolvConf({ host: hostResolvText() });
  if (settings || o.dns?.length || o.dnsSearch?.length || o.dnsOption?.length || o.addHost?.length) {
    const files = (x.net ?? (await c.networks())).etcFiles(settings ?? { Networks: {}, Ports: [], Dns: o.dns, DnsSearch: o.dnsSearch, DnsOptions: o.dnsOption, ExtraHosts: o.addHost }, hostname, hostResolvText());
    hosts = files.hosts;
    resolv = files.resolv;
  }
  if (hostNet) {
    // The host's network: copies of the host's /etc/hosts (unless --add-host asks for entries:
    // then the default one with them) and resolv.conf (unless --dns* are given), as Docker.
    if (!o.addHost?.length) hosts = readHost('/etc/hosts');
    if (!(o.dns?.length || o.dnsSearch?.length || o.dnsOption?.length)) resolv = hostResolvText();
  }
  for (const l of x.links) {
    hosts += `${l.ip}\t${[...new Set([l.alias, l.id.slice(0, 12), l.name])].join(' ')}\n`;
    spec.process!.env = [...(spec.process!.env ?? []), ...linkEnv(l, rec.Name)];
  }
  const etc: [string, string][] = [
    ['hostname', `${hostname}\n`],
    ['hosts', hosts],
    ['resolv.conf', resolv],
  ];
  for (const [name, content] of etc) {
    const dest = `/etc/${name}`;
    if ((spec.mounts ?? []).some((m) => m.destination === dest)) continue;
    writeFileSync(join(bundle, name), content);
    if (rec.IdShift) chownSync(join(bundle, name), rec.IdShift.uid, rec.IdShift.gid);
    spec.mounts!.push({ destination: dest, type: 'bind', source: join(bundle, name), options: ['rbind', 'rprivate', spec.root?.readonly ? 'ro' : 'rw'] });
  }
}
