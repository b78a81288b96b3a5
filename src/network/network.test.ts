import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstFree, formatCidr, formatIPv4, macFor, overlaps, parseCidr, parseIPv4 } from './cidr.js';
import { answer, parseQuestion } from './dns-server.js';
import { formatProxySpec, parseProxySpec } from './proxy-server.js';
import { hostsFile, parseAddHost, resolvConf } from './etc.js';
import { exposedToMappings, formatMapping, parsePublish } from './ports.js';

test('CIDRs: parsed strictly, overlaps found, addresses handed out in order', () => {
  assert.deepEqual(parseCidr('10.90.3.0/24'), { base: parseIPv4('10.90.3.0'), prefix: 24 });
  assert.equal(formatCidr(parseCidr('172.30.0.0/16')), '172.30.0.0/16');
  for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.256/24', 'x/8', '10.0.0.0/-1']) assert.throws(() => parseCidr(bad), /invalid subnet/, bad);
  assert.throws(() => parseCidr('10.0.0.5/24'), /bits outside the prefix \(the network is 10\.0\.0\.0\/24\)/);
  assert.throws(() => parseCidr('10.0.0.0/31'), /no room/);
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')));
  assert.ok(overlaps(parseCidr('10.5.0.0/16'), parseCidr('10.0.0.0/8')));
  assert.ok(!overlaps(parseCidr('10.5.0.0/16'), parseCidr('10.6.0.0/16')));
  const s = parseCidr('10.9.0.0/30');
  assert.equal(formatIPv4(firstFree(s, new Set())!), '10.9.0.1');
  assert.equal(formatIPv4(firstFree(s, new Set([parseIPv4('10.9.0.1')!]))!), '10.9.0.2');
  assert.equal(firstFree(s, new Set([parseIPv4('10.9.0.1')!, parseIPv4('10.9.0.2')!])), undefined, 'the broadcast address is never handed out');
  const t = parseCidr('10.9.1.0/29');
  assert.equal(formatIPv4(firstFree(t, new Set(), parseIPv4('10.9.1.3'))!), '10.9.1.4', 'in turn, after the last one handed out');
  assert.equal(formatIPv4(firstFree(t, new Set(), parseIPv4('10.9.1.6'))!), '10.9.1.1', 'wrapping around, past the broadcast address');
  assert.equal(formatIPv4(firstFree(t, new Set([parseIPv4('10.9.1.1')!]), parseIPv4('10.9.1.6'))!), '10.9.1.2');
  assert.equal(macFor(parseIPv4('10.89.0.2')!), '02:42:0a:59:00:02');
  assert.equal(formatIPv4(parseIPv4('255.255.255.255')!), '255.255.255.255');
});

test('-p specs: Docker\'s forms, ranges, and clear errors', () => {
  assert.deepEqual(parsePublish('8080:80'), [{ hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' }]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'udp' }]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, proto: 'tcp' }]);
  assert.deepEqual(parsePublish('80'), [{ hostIp: '', hostPort: 0, containerPort: 80, proto: 'tcp' }]);
  assert.deepEqual(parsePublish('0.0.0.0:9000-9001:90-91').map(formatMapping), ['90/tcp -> 0.0.0.0:9000', '91/tcp -> 0.0.0.0:9001']);
  assert.deepEqual(parsePublish('8000-8001').map((m) => m.containerPort), [8000, 8001]);
  for (const bad of ['99999:80', '80:0', 'abc', '1:2:3:4', '80/sctp', 'x.y:80:80', '9000-9002:90-91', '90-80', ':80']) assert.throws(() => parsePublish(bad), /invalid port specification/, bad);
  assert.deepEqual(exposedToMappings(['80/tcp', '53/udp']).map(formatMapping), ['80/tcp -> 0.0.0.0:0', '53/udp -> 0.0.0.0:0']);
});

test('/etc/hosts and resolv.conf: own address, --add-host, --dns, the network\'s server or the host\'s', () => {
  const h = hostsFile({ ip: '10.90.0.2', hostname: 'abc', extra: [parseAddHost('db:10.1.1.1'), parseAddHost('gw:host-gateway', '10.90.0.1')] });
  assert.match(h, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(h, /^10\.1\.1\.1\tdb$/m);
  assert.match(h, /^10\.90\.0\.1\tgw$/m);
  assert.match(h, /^10\.90\.0\.2\tabc$/m);
  assert.throws(() => parseAddHost('nocolon'), /--add-host/);
  assert.throws(() => parseAddHost('x:not-an-ip'), /--add-host/);
  const host = 'search corp.example\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions ndots:2\n';
  assert.equal(resolvConf({ host }), 'search corp.example\nnameserver 192.0.2.53\noptions ndots:2\n');
  assert.equal(resolvConf({ host, embedded: '10.90.0.1' }), 'search corp.example\nnameserver 10.90.0.1\n');
  assert.equal(resolvConf({ host, dns: ['10.0.0.9'], dnsSearch: ['a.test'], dnsOptions: ['ndots:1'] }), 'search a.test\nnameserver 10.0.0.9\noptions ndots:1\n');
  assert.throws(() => resolvConf({ host, dns: ['nope'] }), /--dns/);
});

test('DNS messages: a question parsed, an A answer built around it', () => {
  // id 0x1234, RD, one question: web.test A IN
  const q = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, ...Buffer.from('web'), 4, ...Buffer.from('TEST'), 0, 0, 1, 0, 1]);
  const p = parseQuestion(q)!;
  assert.deepEqual(p, { name: 'web.test', type: 1, end: q.length });
  const a = answer(q, p.end, ['10.90.0.7', '10.90.0.8']);
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a[2]! & 0x80, 0x80, 'a response');
  assert.equal(a.readUInt16BE(6), 2, 'two answers');
  assert.deepEqual([...a.subarray(a.length - 4)], [10, 90, 0, 8]);
  assert.equal(a[3]! & 0x0f, 0);
  assert.equal(answer(q, p.end, [], 3)[3]! & 0x0f, 3, 'NXDOMAIN');
  assert.equal(parseQuestion(Buffer.from([1, 2, 3])), undefined);
  assert.equal(parseQuestion(Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1])), undefined, 'a label running past the end');
});

test('proxy specs round-trip', () => {
  const p = { proto: 'udp' as const, hostIp: '', hostPort: 53, containerIp: '10.90.0.2', containerPort: 5353 };
  assert.equal(formatProxySpec(p), 'udp::53:10.90.0.2:5353');
  assert.deepEqual(parseProxySpec(formatProxySpec(p)), p);
  assert.equal(parseProxySpec('sctp::1:10.0.0.1:2'), undefined);
});
