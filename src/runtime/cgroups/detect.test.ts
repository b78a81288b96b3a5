import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../lib/errors.js';
import { detectCgroups, resolveCgroupPath } from './index.js';
import { parseMountinfo } from './detect.js';

/** This development host (cgroups hybrid, cpu and cpuacct mounted apart). */
const HYBRID_HOST = `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** Debian 10 / Ubuntu 20.04 under systemd (hybrid, co-mounted cpu,cpuacct and net_cls,net_prio). */
const HYBRID_SYSTEMD = `25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
37 31 0:32 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_cls,net_prio
38 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,memory
39 31 0:34 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,hugetlb
`;

/** CentOS 7: v1 only. */
const V1_ONLY = `18 62 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755
25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpuacct,cpu
29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,pids
31 24 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpuset
`;

/** Fedora / Debian 12 under systemd: pure v2. */
const V2_ONLY = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw,seclabel
26 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,seclabel,nsdelegate,memory_recursiveprot
`;

test('detectCgroups: this host (hybrid, cpu and cpuacct apart, named systemd, cgroup2 at unified)', () => {
  const l = detectCgroups({ mountinfo: HYBRID_HOST });
  assert.equal(l.mode, 'hybrid');
  assert.equal(l.unified, '/sys/fs/cgroup/unified');
  assert.deepEqual(l.v1, {
    cpu: '/sys/fs/cgroup/cpu',
    cpuacct: '/sys/fs/cgroup/cpuacct',
    cpuset: '/sys/fs/cgroup/cpuset',
    memory: '/sys/fs/cgroup/memory',
    devices: '/sys/fs/cgroup/devices',
    freezer: '/sys/fs/cgroup/freezer',
    blkio: '/sys/fs/cgroup/blkio',
    pids: '/sys/fs/cgroup/pids',
    'name=systemd': '/sys/fs/cgroup/systemd',
  });
});

test('detectCgroups: systemd hybrid with co-mounted controllers', () => {
  const l = detectCgroups({ mountinfo: HYBRID_SYSTEMD });
  assert.equal(l.mode, 'hybrid');
  assert.equal(l.v1['cpu'], '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1['cpuacct'], '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1['net_cls'], '/sys/fs/cgroup/net_cls,net_prio');
  assert.equal(l.v1['net_prio'], '/sys/fs/cgroup/net_cls,net_prio');
  assert.equal(l.v1['name=systemd'], '/sys/fs/cgroup/systemd');
  assert.equal(l.v1['xattr'], undefined);
  assert.equal(l.unified, '/sys/fs/cgroup/unified');
});

test('detectCgroups: pure v1', () => {
  const l = detectCgroups({ mountinfo: V1_ONLY });
  assert.equal(l.mode, 'v1');
  assert.equal(l.unified, undefined);
  assert.equal(l.v1['cpu'], '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1['name=systemd'], '/sys/fs/cgroup/systemd');
  assert.equal(Object.keys(l.v1).some((k) => k.startsWith('release_agent')), false);
});

test('detectCgroups: pure v2', () => {
  const l = detectCgroups({ mountinfo: V2_ONLY });
  assert.deepEqual(l, { mode: 'v2', v1: {}, unified: '/sys/fs/cgroup' });
});

test('detectCgroups: a stray v1 net_cls mount does not make a v2 host hybrid', () => {
  const l = detectCgroups({
    mountinfo: V2_ONLY + '40 26 0:40 / /sys/fs/cgroup/net_cls rw,relatime shared:30 - cgroup net_cls rw,net_cls\n',
  });
  assert.equal(l.mode, 'v2');
});

test('detectCgroups: prefers a mount of the hierarchy root over a bind mount of a subtree', () => {
  const l = detectCgroups({
    mountinfo:
      '50 40 0:32 /docker/abc /mnt/memory rw - cgroup cgroup rw,memory\n' +
      '51 40 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n',
  });
  assert.equal(l.v1['memory'], '/sys/fs/cgroup/memory');
});

test('detectCgroups: unescapes mountpoints', () => {
  const [m] = parseMountinfo('50 40 0:32 / /tmp/a\\040b rw - cgroup2 cgroup2 rw\n');
  assert.equal(m!.mountpoint, '/tmp/a b');
});

test('detectCgroups: optional fields before the separator', () => {
  const l = detectCgroups({ mountinfo: '26 22 0:25 / /sys/fs/cgroup rw shared:4 master:1 - cgroup2 cgroup2 rw\n' });
  assert.equal(l.unified, '/sys/fs/cgroup');
});

test('detectCgroups: no cgroup mount is Unavailable', () => {
  assert.throws(
    () => detectCgroups({ mountinfo: '22 27 0:21 / /proc rw,relatime - proc proc rw\n' }),
    (e) => isBerthError(e, 'Unavailable') && /no cgroup or cgroup2/.test(e.message),
  );
});

test('detectCgroups: the real one is cached and sane', () => {
  const a = detectCgroups();
  assert.equal(detectCgroups(), a);
  assert.ok(['v1', 'hybrid', 'v2'].includes(a.mode));
});

test('resolveCgroupPath', () => {
  assert.equal(resolveCgroupPath(undefined, 'abc'), '/berth/abc');
  assert.equal(resolveCgroupPath('', 'abc'), '/berth/abc');
  assert.equal(resolveCgroupPath('/libpod_parent/libpod-0123', 'x'), '/libpod_parent/libpod-0123');
  assert.equal(resolveCgroupPath('//docker/./abc/', 'x'), '/docker/abc');
  assert.equal(resolveCgroupPath('pods/abc', 'x'), '/berth/pods/abc');
  assert.equal(resolveCgroupPath('abc', 'x'), '/berth/abc');
  for (const bad of ['/', '/a/../b', '../x', 'system.slice:docker:abc', '/a\nb']) {
    assert.throws(
      () => resolveCgroupPath(bad, 'x'),
      (e) => isBerthError(e, 'InvalidArgument') && e.message.startsWith('linux.cgroupsPath: '),
      bad,
    );
  }
  assert.throws(() => resolveCgroupPath(undefined, '../x'), (e) => isBerthError(e, 'InvalidArgument'));
  assert.throws(() => resolveCgroupPath(undefined, 'a/b'), (e) => isBerthError(e, 'InvalidArgument'));
});
