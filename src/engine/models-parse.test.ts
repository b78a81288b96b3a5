/** Docker's short syntaxes → the request models: the parsers on their own. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeCapability,
  normalizeExtraHost,
  parseDeviceMapping,
  parseGoDuration,
  parseLabels,
  parseMemoryBytes,
  parseMountSpec,
  parseNanoCpus,
  parsePortSpecs,
  parseRestartPolicy,
  parseThrottleDevice,
  parseTmpfsSpec,
  parseUlimit,
  positiveDurationNs,
  splitVolumeSpecs,
} from './models-parse.js';
import { isBerthError } from '../lib/errors.js';

const invalid = (f: () => unknown, message: string) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), String(e));
    assert.equal(e.message, message);
    return true;
  });

test('Go durations in nanoseconds, as time.ParseDuration reads them', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0], ['1ns', 1], ['1us', 1e3], ['1µs', 1e3], ['500ms', 5e8], ['1.5s', 1.5e9], ['1m30s', 90e9], ['2h45m', 2.75 * 3600e9],
    ['.5s', 5e8], ['1.s', 1e9], ['-1s', -1e9], ['+2m', 120e9], ['1h1m1s1ms1us1ns', 3661001001001],
    ['', undefined], ['5', undefined], ['s', undefined], ['1x', undefined], ['1s ', undefined], [' 1s', undefined], ['1s2', undefined], ['-', undefined],
  ];
  for (const [v, ns] of cases) assert.equal(parseGoDuration(v), ns, JSON.stringify(v));
  assert.equal(positiveDurationNs('30s', '--health-interval'), 30e9);
  invalid(() => positiveDurationNs('0', '--health-interval'), 'invalid argument "0" for "--health-interval" flag: time: invalid duration');
  invalid(() => positiveDurationNs('-1s', '--health-timeout'), 'invalid argument "-1s" for "--health-timeout" flag: time: invalid duration');
});

test('sizes and CPUs', () => {
  assert.equal(parseMemoryBytes('64m', 'memory'), 64 * 1024 ** 2);
  assert.equal(parseMemoryBytes('2GB', 'memory'), 2 * 1024 ** 3);
  assert.equal(parseMemoryBytes('-1', 'memory-swap'), -1);
  invalid(() => parseMemoryBytes('-1', 'memory'), 'invalid memory "-1": use a number with an optional unit b, k, m, g');
  assert.equal(parseNanoCpus('2'), 2e9);
  assert.equal(parseNanoCpus('0.25'), 2.5e8);
  for (const v of ['0', '', ' ', 'x', '-0.5', '1e-12']) invalid(() => parseNanoCpus(v), `invalid argument ${JSON.stringify(v)} for "--cpus" flag: must be a positive number`);
});

test('restart policies', () => {
  assert.deepEqual(parseRestartPolicy(undefined), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  invalid(() => parseRestartPolicy('unless-stopped:1'), 'invalid restart policy "unless-stopped:1" (no, always, unless-stopped, on-failure[:max-retries])');
});

test('ports: pairwise ranges, a host range for one port, protocols', () => {
  assert.deepEqual(parsePortSpecs(['53:53/udp', '1000-1001:2000-2001', '127.0.0.1:3000-3005:3000']), {
    ExposedPorts: { '53/udp': {}, '2000/tcp': {}, '2001/tcp': {}, '3000/tcp': {} },
    PortBindings: {
      '53/udp': [{ HostIp: '', HostPort: '53' }],
      '2000/tcp': [{ HostIp: '', HostPort: '1000' }],
      '2001/tcp': [{ HostIp: '', HostPort: '1001' }],
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '3000-3005' }],
    },
  });
  assert.deepEqual(parsePortSpecs([]), { ExposedPorts: {}, PortBindings: {} });
  invalid(() => parsePortSpecs(['256.1.1.1:80:80']), 'invalid port specification: "256.1.1.1:80:80": "256.1.1.1" is not an IPv4 address');
  invalid(() => parsePortSpecs(['0:80']), 'invalid port specification: "0:80": "0" is not a port or a range of ports (1-65535)');
  invalid(() => parsePortSpecs([':80']), 'invalid port specification: ":80" (use [ip:]hostPort:containerPort[/tcp|udp] or containerPort)');
});

test('--mount specs as Mounts', () => {
  assert.deepEqual(parseMountSpec('type=bind,src=/a,dst=/b,bind-propagation=shared'), { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { Propagation: 'shared' } });
  assert.deepEqual(parseMountSpec('type=volume,target=/d,volume-nocopy=false'), { Type: 'volume', Target: '/d' });
  assert.deepEqual(parseMountSpec('type=volume,target=/d,volume-nocopy=true,readonly=1'), { Type: 'volume', Target: '/d', ReadOnly: true, VolumeOptions: { NoCopy: true } });
  assert.deepEqual(parseMountSpec('type=tmpfs,dst=/t'), { Type: 'tmpfs', Target: '/t' });
  assert.deepEqual(parseMountSpec('type=tmpfs,dst=/t,tmpfs-mode=0700'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o700 } });
  invalid(() => parseMountSpec('type=bind,src=/a,dst=/b,bind-propagation=sideways'), 'invalid argument "type=bind,src=/a,dst=/b,bind-propagation=sideways" for "--mount" flag: invalid bind-propagation "sideways"');
});

test('tmpfs, volumes, labels, capabilities, extra hosts', () => {
  assert.deepEqual(parseTmpfsSpec('/run'), ['/run', '']);
  assert.deepEqual(parseTmpfsSpec('/run:size=1m:x'), ['/run', 'size=1m:x']);
  assert.deepEqual(splitVolumeSpecs(['/a', '/b:/c', 'v:/d:ro']), { Binds: ['/b:/c', 'v:/d:ro'], Volumes: { '/a': {} } });
  assert.deepEqual(parseLabels(['a', 'b=', 'c=d=e']), { a: '', b: '', c: 'd=e' });
  assert.deepEqual(['chown', 'Cap_Kill', 'all', 'ALL', 'CAP_NET_RAW'].map(normalizeCapability), ['CAP_CHOWN', 'CAP_KILL', 'ALL', 'ALL', 'CAP_NET_RAW']);
  assert.deepEqual(['a:1.2.3.4', 'b=::1', 'c:host-gateway'].map(normalizeExtraHost), ['a:1.2.3.4', 'b:::1', 'c:host-gateway']);
});

test('ulimits, devices, throttles', () => {
  assert.deepEqual(parseUlimit('nofile=10'), { Name: 'nofile', Soft: 10, Hard: 10 });
  assert.deepEqual(parseUlimit('memlock=-1:-1'), { Name: 'memlock', Soft: -1, Hard: -1 });
  assert.deepEqual(parseDeviceMapping('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDeviceMapping('/dev/fuse:mrw'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'mrw' });
  assert.deepEqual(parseDeviceMapping('/dev/fuse:/dev/f2'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/f2', CgroupPermissions: 'rwm' });
  invalid(() => parseDeviceMapping('/dev/fuse:/dev/f2:rx'), 'invalid --device "/dev/fuse:/dev/f2:rx": bad permissions "rx"');
  assert.deepEqual(parseThrottleDevice('/dev/sda:1k', '--device-read-bps', 'bps'), { Path: '/dev/sda', Rate: 1024 });
  assert.deepEqual(parseThrottleDevice('/dev/disk/by-id/x:0', '--device-read-iops', 'iops'), { Path: '/dev/disk/by-id/x', Rate: 0 });
});
