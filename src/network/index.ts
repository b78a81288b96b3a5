/**
 * Networking: bridges, veth pairs into a container's network namespace (given as a path), IPv4
 * address management helpers, published ports and isolation (nftables), a DNS server per
 * user-defined network, and the /etc/hosts and /etc/resolv.conf a container gets. The engine
 * decides what each container gets and keeps the records; this layer does it to the kernel.
 */
export { parseCidr, formatCidr, parseIPv4, formatIPv4, overlaps, contains, firstFree, macFor, mask, parseMac } from './cidr.js';
export type { Subnet } from './cidr.js';
export { parsePublish, exposedToMappings, portFree, formatMapping } from './ports.js';
export type { PortMapping } from './ports.js';
export { firewallBackend, addPorts, removePorts, listTable, ensureTable, BRIDGE_PREFIX } from './firewall.js';
export type { PublishedPort, FirewallBackend } from './firewall.js';
export { ensureBridge, removeBridge, createNetns, deleteNetns, attachEndpoint, detachEndpoint, linkExists } from './plumbing.js';
export type { Shortcut } from './plumbing.js';
export type { BridgeConfig, Endpoint } from './plumbing.js';
export { dnsFiles, updateDns, stopDns, dnsRunning, upstreamResolvers } from './dns.js';
export type { DnsFiles } from './dns.js';
export { hostsFile, resolvConf, parseAddHost, hostResolvText } from './etc.js';
export { startProxy, stopProxy } from './proxy.js';
export { addLocalPorts, localPortsCgroup, removeLocalPorts } from './socklb.js';
