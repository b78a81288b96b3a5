/**
 * Listing, inspecting and pruning networks as Docker shows them: the user-defined and default
 * bridges, and the pseudo-networks `host` and `none` (the modes `--network host|none`), each with
 * Docker's fixed id; `network ls` filters (name=, id=, label=, driver=, scope=, type=, dangling=)
 * and `network prune`'s label= filters.
 */
import type { NetworkInspect } from './models.js';
import { invalidArgument } from '../lib/errors.js';
import type { ContainerService } from './containers.js';
import { filterPairs, labelMatches, matchAll, type Filters } from './filters.js';
import type { NetworkService } from './networks.js';

export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope: 'local';
  Internal: boolean;
  Labels: Record<string, string>;
}

const LS_FILTERS = ['name', 'id', 'label', 'driver', 'scope', 'type', 'dangling'];

/** The networks, the pseudo-networks last; the filters' values of one key are alternatives. */
export function listNetworks(net: NetworkService, q: { filters?: Filters } = {}): NetworkSummary[] {
  const bad = (f: string) => invalidArgument(`invalid filter ${JSON.stringify(f)} (name=, id=, label=, driver=, scope=, type=, dangling=)`);
  const pairs = filterPairs(q.filters, bad, (k, v, f) => {
    if (!LS_FILTERS.includes(k)) throw bad(f);
    if (k === 'type' && v !== 'custom' && v !== 'builtin') throw invalidArgument(`invalid filter ${JSON.stringify(f)}: type is custom or builtin`);
    if (k === 'dangling' && !['true', 'false', '1', '0'].includes(v)) throw invalidArgument(`invalid filter ${JSON.stringify(f)}: dangling is true or false`);
  });
  net.find('bridge'); // the default network exists once someone looks
  const rows = [
    ...net.list().map((n) => ({ Id: n.Id, Name: n.Name, Driver: n.Driver as string, Scope: 'local' as const, Internal: n.Internal, Labels: n.Labels, builtin: n.Name === 'bridge', used: Object.keys(n.Endpoints).length > 0 })),
    { Id: '0'.repeat(64), Name: 'host', Driver: 'host', Scope: 'local' as const, Internal: false, Labels: {}, builtin: true, used: false },
    { Id: 'f'.repeat(64), Name: 'none', Driver: 'null', Scope: 'local' as const, Internal: false, Labels: {}, builtin: true, used: false },
  ];
  return rows
    .filter((r) =>
      matchAll(pairs, r, (k, v) => {
        if (k === 'name') return r.Name.includes(v);
        if (k === 'id') return r.Id.startsWith(v);
        if (k === 'driver') return r.Driver === v;
        if (k === 'scope') return r.Scope === v;
        if (k === 'type') return (v === 'builtin') === r.builtin;
        if (k === 'dangling') return (v === 'true' || v === '1') === (!r.builtin && !r.used);
        return labelMatches(r.Labels, v);
      }),
    )
    .map(({ builtin: _b, used: _u, ...r }) => r);
}

/** A network as Docker's inspect shows it, with the containers on it. */
export function inspectNetwork(net: NetworkService, containers: ContainerService, nameOrId: string): NetworkInspect {
  const r = net.find(nameOrId);
  const s = r.Subnet.split('/')[1];
  return {
    Name: r.Name,
    Id: r.Id,
    Created: r.Created,
    Scope: 'local',
    Driver: r.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [r.GatewayImplied ? { Subnet: r.Subnet } : { Subnet: r.Subnet, Gateway: r.Gateway }] },
    Internal: r.Internal,
    Attachable: false,
    Ingress: false,
    Containers: Object.fromEntries(
      Object.entries(r.Endpoints).map(([cid, e]) => [cid, { Name: e.Name, MacAddress: e.MacAddress, IPv4Address: `${e.IPAddress}/${s}`, IPv6Address: '', Aliases: e.Aliases, Running: containers.isRunning(cid) }]),
    ),
    Options: { 'com.docker.network.bridge.name': r.Bridge, 'com.docker.network.driver.mtu': String(r.MTU), ...r.Options },
    Labels: r.Labels,
  };
}

/**
 * `network prune`: networks no container uses (only those with the labels of every label=
 * filter), and what crashed containers left; the names of the networks removed.
 */
export function pruneNetworks(net: NetworkService, containers: ContainerService, q: { filters?: Filters } = {}): string[] {
  const bad = (f: string) => invalidArgument(`invalid filter ${JSON.stringify(f)} (label=KEY[=VALUE])`);
  const labels = filterPairs(q.filters, bad, (k, v, f) => {
    if (k !== 'label' || v === '' || v.startsWith('=')) throw bad(f);
  }).map(([, v]) => v);
  const wanted = labels.length ? (l: Record<string, string>) => labels.every((v) => labelMatches(l, v)) : undefined;
  return net.prune((id) => containers.isRunning(id), wanted, (id, name) => !containers.orphanEndpoint(id, name));
}
