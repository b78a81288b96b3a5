/** The manager on cgroup v1 and hybrid fixture trees: the exact files and values written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { isBerthError } from '../../lib/errors.js';
import type { Resources } from '../../oci/runtime-spec.js';
import { CgroupManager } from './index.js';
import { hybridFixture, v1Fixture, type Fixture, type V1Options } from './fixture.js';

const M = 1024 * 1024;
const UNLIMITED = '9223372036854771712';

function withV1<T>(o: V1Options, fn: (fx: Fixture, mgr: CgroupManager) => T): T {
  const fx = v1Fixture(o);
  try {
    return fn(fx, new CgroupManager(fx.layout, '/berth/c1', { fs: fx.kernel, freezeTimeoutMs: 200 }));
  } finally {
    fx.cleanup();
  }
}

/** The writes after create() set up the directories, relative to the fixture root. */
function writesAfter(fx: Fixture, fn: () => void): string[] {
  const start = fx.kernel.writes.length;
  fn();
  return fx.kernel.writes.slice(start).map((w) => `${path.relative(fx.root, w.file)}=${w.value}`);
}

function throwsWith(fn: () => unknown, kind: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e), String(e));
    assert.equal(e.kind, kind, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('v1 create: a directory in every hierarchy, named ones included; cpuset initialised at each level', () => {
  withV1({}, (fx, mgr) => {
    const writes = writesAfter(fx, () => mgr.create());
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd']) {
      assert.ok(fs.statSync(path.join(fx.root, h, 'berth', 'c1')).isDirectory(), h);
    }
    assert.deepEqual(writes, [
      'cpuset/berth/cpuset.cpus=0-3',
      'cpuset/berth/cpuset.mems=0',
      'cpuset/berth/c1/cpuset.cpus=0-3',
      'cpuset/berth/c1/cpuset.mems=0',
    ]);
    assert.ok(mgr.exists());
    assert.deepEqual(
      mgr.procsFiles().map((f) => path.relative(fx.root, f)),
      ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd'].map(
        (h) => `${h}/berth/c1/cgroup.procs`,
      ),
    );
    assert.equal(mgr.devicesEnforced, true);
    // A new process joins through each hierarchy's tasks file (it writes 0 there itself).
    assert.deepEqual(mgr.joinTargets().tasks.map((f) => path.relative(fx.root, f)), mgr.procsFiles().map((f) => path.relative(fx.root, f).replace(/cgroup\.procs$/, 'tasks')));
    assert.equal(mgr.joinTargets().into, undefined);
  });
});

test('v1 create: co-mounted controllers share one directory and one cgroup.procs', () => {
  withV1({ comountCpu: true }, (fx, mgr) => {
    mgr.create({ cpu: { shares: 512 } });
    const procs = mgr.procsFiles().map((f) => path.relative(fx.root, f));
    assert.equal(procs.filter((p) => p.startsWith('cpu,cpuacct/')).length, 1);
    assert.equal(fs.readFileSync(path.join(fx.root, 'cpu,cpuacct/berth/c1/cpu.shares'), 'utf8'), '512');
  });
});

test('v1 memory: limit, swap total, reservation, swappiness, OOM killer', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    const w = writesAfter(fx, () =>
      mgr.apply({
        memory: { limit: 64 * M, swap: 128 * M, reservation: 32 * M, swappiness: 10, disableOOMKiller: true },
      }),
    );
    // From unlimited, the memory limit is lowered first, then the total.
    assert.deepEqual(w, [
      `memory/berth/c1/memory.limit_in_bytes=${64 * M}`,
      `memory/berth/c1/memory.memsw.limit_in_bytes=${128 * M}`,
      `memory/berth/c1/memory.soft_limit_in_bytes=${32 * M}`,
      'memory/berth/c1/memory.swappiness=10',
      'memory/berth/c1/memory.oom_control=1',
    ]);
    // Raising both: the total first, or the kernel refuses a memory limit above it.
    assert.deepEqual(
      writesAfter(fx, () => mgr.apply({ memory: { limit: 256 * M, swap: 512 * M } })),
      [`memory/berth/c1/memory.memsw.limit_in_bytes=${512 * M}`, `memory/berth/c1/memory.limit_in_bytes=${256 * M}`],
    );
    // Lowering both: the memory limit first.
    assert.deepEqual(
      writesAfter(fx, () => mgr.apply({ memory: { limit: 16 * M, swap: 32 * M } })),
      [`memory/berth/c1/memory.limit_in_bytes=${16 * M}`, `memory/berth/c1/memory.memsw.limit_in_bytes=${32 * M}`],
    );
    // -1 without swap lifts both.
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ memory: { limit: -1 } })), [
      'memory/berth/c1/memory.memsw.limit_in_bytes=-1',
      'memory/berth/c1/memory.limit_in_bytes=-1',
    ]);
  });
});

test('v1 memory: kernel is ignored with a note; kernelTCP written where the file exists', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    let notes: string[] = [];
    const w = writesAfter(fx, () => (notes = mgr.apply({ memory: { kernel: 10 * M, kernelTCP: 10 * M } })));
    assert.deepEqual(w, []);
    assert.equal(notes.length, 2);
    assert.match(notes[0]!, /^linux\.resources\.memory\.kernel: ignored: /);
    assert.match(notes[1]!, /^linux\.resources\.memory\.kernelTCP: ignored: /);
  });
  withV1({ kmem: true }, (fx, mgr) => {
    mgr.create();
    const w = writesAfter(fx, () => mgr.apply({ memory: { kernelTCP: 10 * M } }));
    assert.deepEqual(w, [`memory/berth/c1/memory.kmem.tcp.limit_in_bytes=${10 * M}`]);
  });
});

test('v1 memory: swap without swap accounting', () => {
  withV1({ memsw: false }, (fx, mgr) => {
    mgr.create();
    throwsWith(
      () => mgr.apply({ memory: { limit: 64 * M, swap: 128 * M } }),
      'FailedPrecondition',
      /^linux\.resources\.memory\.swap: swap accounting is not enabled on this host \(no .*memory\.memsw\.limit_in_bytes\)$/,
    );
    // Unlimited swap is what there is: nothing to write.
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ memory: { limit: -1, swap: -1 } })), [
      'memory/berth/c1/memory.limit_in_bytes=-1',
    ]);
  });
});

test('v1 memory: a limit below usage names the file, value, reason and usage', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    fs.writeFileSync(path.join(fx.root, 'memory/berth/c1/memory.usage_in_bytes'), '99999999\n');
    fx.kernel.failWrite = (f) => (f.endsWith('memory.limit_in_bytes') ? 'EBUSY' : undefined);
    const file = path.join(fx.root, 'memory/berth/c1/memory.limit_in_bytes');
    throwsWith(
      () => mgr.apply({ memory: { limit: 64 * M } }),
      'FailedPrecondition',
      `linux.resources.memory.limit: write ${file} "${64 * M}": device or resource busy (current usage 99999999 bytes)`,
    );
    fx.kernel.failWrite = undefined;
    throwsWith(
      () => mgr.apply({ memory: { limit: 64 * M, checkBeforeUpdate: true } }),
      'FailedPrecondition',
      /memory\.limit: 67108864 is below the current usage of 99999999 bytes/,
    );
  });
});

test('v1 cpu: shares, CFS period then quota (quota first when the period is refused), burst, RT, idle', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(
      writesAfter(fx, () =>
        mgr.apply({
          cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 0 },
        }),
      ),
      [
        'cpu/berth/c1/cpu.shares=512',
        'cpu/berth/c1/cpu.cfs_period_us=100000',
        'cpu/berth/c1/cpu.cfs_quota_us=50000',
        'cpu/berth/c1/cpu.cfs_burst_us=1000',
        'cpu/berth/c1/cpu.rt_period_us=1000000',
        'cpu/berth/c1/cpu.rt_runtime_us=950000',
        'cpu/berth/c1/cpu.idle=0',
      ],
    );
    let refused = 1;
    fx.kernel.failWrite = (f) => (f.endsWith('cpu.cfs_period_us') && refused-- > 0 ? 'EINVAL' : undefined);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { quota: 5000, period: 10000 } })), [
      'cpu/berth/c1/cpu.cfs_quota_us=5000',
      'cpu/berth/c1/cpu.cfs_period_us=10000',
    ]);
    // Without a quota to write, the refusal is the error.
    fx.kernel.failWrite = (f) => (f.endsWith('cpu.cfs_period_us') ? 'EINVAL' : undefined);
    throwsWith(() => mgr.apply({ cpu: { period: 10000 } }), 'InvalidArgument', /^linux\.resources\.cpu\.period: write .*cpu\.cfs_period_us "10000": invalid argument$/);
    fx.kernel.failWrite = undefined;
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { quota: -1 } })), ['cpu/berth/c1/cpu.cfs_quota_us=-1']);
  });
});

test('v1 cpuset, pids', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { cpus: '0-1', mems: '0' }, pids: { limit: 100 } })), [
      'cpuset/berth/c1/cpuset.cpus=0-1',
      'cpuset/berth/c1/cpuset.mems=0',
      'pids/berth/c1/pids.max=100',
    ]);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ pids: { limit: 0 } })), ['pids/berth/c1/pids.max=max']);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ pids: { limit: -1 } })), ['pids/berth/c1/pids.max=max']);
  });
});

test('v1 blkio: no weight files is a clear error; throttling works', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    throwsWith(
      () => mgr.apply({ blockIO: { weight: 500 } }),
      'FailedPrecondition',
      /^linux\.resources\.blockIO\.weight: no blkio weight file in .*\/blkio\/berth\/c1 \(neither blkio\.bfq\.weight nor blkio\.weight\)/,
    );
    throwsWith(
      () => mgr.apply({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }] } }),
      'FailedPrecondition',
      /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: no blkio weight file/,
    );
    assert.deepEqual(
      writesAfter(fx, () =>
        mgr.apply({
          blockIO: {
            throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
            throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
            throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
            throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }],
          },
        }),
      ),
      [
        'blkio/berth/c1/blkio.throttle.read_bps_device=8:0 1048576',
        'blkio/berth/c1/blkio.throttle.write_bps_device=8:0 2097152',
        'blkio/berth/c1/blkio.throttle.read_iops_device=8:16 100',
        'blkio/berth/c1/blkio.throttle.write_iops_device=8:16 0',
      ],
    );
  });
});

test('v1 blkio weights with CFQ and BFQ files', () => {
  const r: Resources = { blockIO: { weight: 500, leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 100 }] } };
  withV1({ blkioWeight: 'cfq' }, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply(r)), [
      'blkio/berth/c1/blkio.weight=500',
      'blkio/berth/c1/blkio.leaf_weight=300',
      'blkio/berth/c1/blkio.weight_device=8:0 200',
      'blkio/berth/c1/blkio.leaf_weight_device=8:0 100',
    ]);
  });
  withV1({ blkioWeight: 'bfq' }, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } })), [
      'blkio/berth/c1/blkio.bfq.weight=500',
      'blkio/berth/c1/blkio.bfq.weight=8:0 200',
    ]);
    throwsWith(() => mgr.apply({ blockIO: { leafWeight: 300 } }), 'FailedPrecondition', /^linux\.resources\.blockIO\.leafWeight: a blkio leaf weight is not supported here/);
  });
});

test('v1 hugetlb', () => {
  withV1({ controllers: ['memory', 'hugetlb'] }, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] })), [
      `hugetlb/berth/c1/hugetlb.2MB.limit_in_bytes=${4 * M}`,
    ]);
    throwsWith(
      () => mgr.apply({ hugepageLimits: [{ pageSize: '4MB', limit: 0 }] }),
      'FailedPrecondition',
      'linux.resources.hugepageLimits[0].pageSize: "4MB" is not a huge page size of this host (sizes: 1GB, 2MB)',
    );
  });
  withV1({}, (_fx, mgr) => {
    mgr.create();
    throwsWith(
      () => mgr.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }),
      'FailedPrecondition',
      'linux.resources.hugepageLimits: the hugetlb cgroup controller is not available (not mounted as a cgroup v1 hierarchy)',
    );
  });
});

test('v1 devices: deny and allow lines in rule order', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(
      writesAfter(fx, () =>
        mgr.apply({
          devices: [
            { allow: false, access: 'rwm' },
            { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
            { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
            { allow: false, type: 'c', major: 5, minor: 1, access: 'w' },
          ],
        }),
      ),
      [
        'devices/berth/c1/devices.deny=a *:* rwm',
        'devices/berth/c1/devices.allow=c 1:3 rwm',
        'devices/berth/c1/devices.allow=c 136:* rwm',
        'devices/berth/c1/devices.deny=c 5:1 w',
      ],
    );
  });
});

test('v1 network: net_cls / net_prio when mounted, else an error', () => {
  withV1({}, (_fx, mgr) => {
    mgr.create();
    throwsWith(
      () => mgr.apply({ network: { classID: 0x100001 } }),
      'FailedPrecondition',
      'linux.resources.network.classID: the net_cls cgroup controller is not available (not mounted as a cgroup v1 hierarchy)',
    );
    throwsWith(
      () => mgr.apply({ network: { priorities: [{ name: 'eth0', priority: 5 }] } }),
      'FailedPrecondition',
      /^linux\.resources\.network\.priorities: the net_prio cgroup controller is not available/,
    );
    // Unset values need no controller.
    mgr.apply({ network: { classID: 0, priorities: [] } });
  });
  withV1({ controllers: ['memory', 'net_cls', 'net_prio'] }, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(
      writesAfter(fx, () => mgr.apply({ network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] } })),
      ['net_cls/berth/c1/net_cls.classid=1048577', 'net_prio/berth/c1/net_prio.ifpriomap=eth0 5', 'net_prio/berth/c1/net_prio.ifpriomap=lo 1'],
    );
  });
});

test('v1: unified is an error; unset values need no controller', () => {
  withV1({ controllers: ['memory'] }, (_fx, mgr) => {
    mgr.create();
    throwsWith(
      () => mgr.apply({ unified: { 'memory.high': '1G' } }),
      'FailedPrecondition',
      'linux.resources.unified: this host has no cgroup2 hierarchy (cgroup v1 only)',
    );
    mgr.apply({ unified: {}, pids: { limit: 0 }, cpu: { shares: 0, quota: 0 }, blockIO: {} });
    throwsWith(
      () => mgr.apply({ pids: { limit: 10 } }),
      'FailedPrecondition',
      'linux.resources.pids.limit: the pids cgroup controller is not available (not mounted as a cgroup v1 hierarchy)',
    );
  });
});

test('v1 create: on failure, what the call made is removed; existing ancestors stay', () => {
  withV1({}, (fx, mgr) => {
    fx.kernel.failWrite = (f) => (f.endsWith('pids.max') ? 'EINVAL' : undefined);
    throwsWith(() => mgr.create({ pids: { limit: 10 } }), 'InvalidArgument', /^linux\.resources\.pids\.limit: write .*pids\.max "10": invalid argument$/);
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd']) {
      assert.ok(!fs.existsSync(path.join(fx.root, h, 'berth')), h);
    }
    // With /berth there already (in memory), only the leaf goes.
    fs.mkdirSync(path.join(fx.root, 'memory', 'berth'));
    throwsWith(() => mgr.create({ pids: { limit: 10 } }), 'InvalidArgument', /pids\.max/);
    assert.ok(fs.existsSync(path.join(fx.root, 'memory', 'berth')));
    assert.ok(!fs.existsSync(path.join(fx.root, 'memory', 'berth', 'c1')));
    assert.ok(!mgr.exists());
  });
  withV1({}, (fx, mgr) => {
    // A mkdir failing halfway through the hierarchies.
    fx.kernel.failMkdir = (d) => (d.includes('/freezer/') ? 'ENOSPC' : undefined);
    throwsWith(() => mgr.create(), 'FailedPrecondition', /^mkdir .*\/freezer\/berth: no space left on device$/);
    assert.ok(!mgr.exists());
    assert.ok(!fs.existsSync(path.join(fx.root, 'cpu', 'berth')));
  });
  withV1({}, (_fx, mgr) => {
    // Invalid resources: nothing is made at all.
    throwsWith(() => mgr.create({ memory: { limit: 1000 } }), 'InvalidArgument', 'linux.resources.memory.limit: 1000 is below the minimum of 6 MiB');
    assert.ok(!mgr.exists());
  });
});

test('v1 pids(): union over hierarchies and child cgroups', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    fs.writeFileSync(path.join(fx.root, 'memory/berth/c1/cgroup.procs'), '10\n11\n');
    fs.writeFileSync(path.join(fx.root, 'pids/berth/c1/cgroup.procs'), '11\n12\n');
    fs.mkdirSync(path.join(fx.root, 'systemd/berth/c1/sub'));
    fs.writeFileSync(path.join(fx.root, 'systemd/berth/c1/sub/cgroup.procs'), '13\n');
    assert.deepEqual(mgr.pids(), [10, 11, 12, 13]);
  });
});

test('v1 stats(): one shape from the v1 files', () => {
  withV1({ controllers: ['cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'hugetlb'] }, (fx, mgr) => {
    mgr.create({ memory: { limit: 64 * M }, pids: { limit: 50 } });
    const put = (f: string, v: string) => fs.writeFileSync(path.join(fx.root, f), v);
    put('memory/berth/c1/memory.usage_in_bytes', '1000000\n');
    put('memory/berth/c1/memory.max_usage_in_bytes', '2000000\n');
    put('memory/berth/c1/memory.failcnt', '3\n');
    put('memory/berth/c1/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    put('memory/berth/c1/memory.stat', 'cache 5\nrss 6\ntotal_swap 4096\n');
    put('cpuacct/berth/c1/cpuacct.usage', '3000\n');
    put('cpuacct/berth/c1/cpuacct.usage_user', '2000\n');
    put('cpuacct/berth/c1/cpuacct.usage_sys', '1000\n');
    put('cpuacct/berth/c1/cpuacct.usage_percpu', '1000 2000 \n');
    put('cpu/berth/c1/cpu.stat', 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n');
    put('pids/berth/c1/pids.current', '7\n');
    put('blkio/berth/c1/blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n');
    put('blkio/berth/c1/blkio.throttle.io_serviced_recursive', '8:0 Read 1\n8:0 Write 2\nTotal 3\n');
    put('hugetlb/berth/c1/hugetlb.2MB.usage_in_bytes', '2097152\n');
    assert.deepEqual(mgr.stats(), {
      memory: {
        usage: 1000000,
        maxUsage: 2000000,
        limit: 64 * M,
        failcnt: 3,
        oomKill: 2,
        swapLimit: null,
        swapUsage: 4096,
        stat: { cache: 5, rss: 6, total_swap: 4096 },
      },
      cpu: {
        usageTotal: 3000,
        usageUser: 2000,
        usageSystem: 1000,
        perCpu: [1000, 2000],
        throttling: { periods: 10, throttledPeriods: 4, throttledTime: 5000 },
      },
      pids: { current: 7, limit: 50 },
      blkio: { devices: [{ major: 8, minor: 0, readBytes: 4096, writeBytes: 8192, readIos: 1, writeIos: 2 }] },
      hugetlb: { '1GB': { usage: 0, maxUsage: 0, failcnt: 0 }, '2MB': { usage: 2097152, maxUsage: 0, failcnt: 0 } },
    });
    assert.equal(mgr.oomKilled(), 2);
    // cpuacct.stat (USER_HZ ticks) when the _user/_sys files are missing.
    fs.unlinkSync(path.join(fx.root, 'cpuacct/berth/c1/cpuacct.usage_user'));
    put('cpuacct/berth/c1/cpuacct.stat', 'user 3\nsystem 1\n');
    const cpu = mgr.stats().cpu!;
    assert.equal(cpu.usageUser, 30_000_000);
    assert.equal(cpu.usageSystem, 10_000_000);
  });
});

test('v1 freeze/thaw through freezer.state', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    mgr.freeze();
    assert.equal(mgr.freezerState(), 'FROZEN');
    mgr.thaw();
    assert.equal(mgr.freezerState(), 'THAWED');
    assert.deepEqual(fx.kernel.writesTo('freezer.state'), ['FROZEN', 'THAWED']);
    // A freezer stuck in FREEZING times out, asks again meanwhile, and thaws again.
    const write = fx.kernel.write.bind(fx.kernel);
    fx.kernel.write = (f, v) => {
      write(f, v);
      if (f.endsWith('freezer.state') && v === 'FROZEN') fs.writeFileSync(f, 'FREEZING\n');
    };
    throwsWith(() => mgr.freeze(), 'Unavailable', 'freeze cgroup /berth/c1: not frozen after 200 ms');
    assert.ok(fx.kernel.writesTo('freezer.state').filter((v) => v === 'FROZEN').length >= 3, 'asked again');
    assert.equal(mgr.freezerState(), 'THAWED');
  });
});

test('v1 destroy: removes child cgroups and the leaf everywhere, keeps ancestors, ENOENT is fine, EBUSY is retried then reported', () => {
  withV1({}, (fx, mgr) => {
    mgr.create();
    fs.mkdirSync(path.join(fx.root, 'memory/berth/c1/inner'));
    mgr.destroy();
    assert.ok(!mgr.exists());
    assert.ok(fs.existsSync(path.join(fx.root, 'memory/berth')));
    mgr.destroy(); // already gone
    mgr.create();
    fs.writeFileSync(path.join(fx.root, 'pids/berth/c1/cgroup.procs'), '4242\n');
    // Busy for good: rmdir is tried again and again (counted, not timed), then reported.
    let attempts = 0;
    const plainRmdir = fx.kernel.rmdir.bind(fx.kernel);
    fx.kernel.rmdir = (d) => {
      if (d.endsWith('pids/berth/c1')) attempts++;
      plainRmdir(d);
    };
    throwsWith(() => mgr.destroy(), 'FailedPrecondition', `rmdir ${path.join(fx.root, 'pids/berth/c1')}: device or resource busy`);
    assert.ok(attempts > 5, `retried several times before reporting (${attempts} attempts)`);
    fx.kernel.rmdir = plainRmdir;
    // The other hierarchies were still cleaned.
    assert.ok(!fs.existsSync(path.join(fx.root, 'memory/berth/c1')));
    // Busy only for a moment: the retry wins.
    let busy = 3;
    const rmdir = fx.kernel.rmdir.bind(fx.kernel);
    fx.kernel.rmdir = (d) => {
      if (d.endsWith('pids/berth/c1') && busy-- > 0) {
        const e = new Error('busy') as NodeJS.ErrnoException;
        e.code = 'EBUSY';
        throw e;
      }
      if (d.endsWith('pids/berth/c1')) fs.writeFileSync(path.join(d, 'cgroup.procs'), '');
      rmdir(d);
    };
    mgr.destroy();
    assert.ok(!mgr.exists());
  });
});

test('v1 killAll: signals the processes it finds, with the freezer around it', async () => {
  const fx = v1Fixture();
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const mgr = new CgroupManager(fx.layout, '/berth/c1', { fs: fx.kernel });
    mgr.create();
    fs.writeFileSync(path.join(fx.root, 'memory/berth/c1/cgroup.procs'), `${child.pid}\n`);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
    mgr.killAll('SIGTERM');
    assert.equal(await exited, 'SIGTERM');
    assert.deepEqual(fx.kernel.writesTo('freezer.state'), ['FROZEN', 'THAWED']);
    // A paused cgroup stays paused for other signals, and is thawed for SIGKILL.
    mgr.freeze();
    fs.writeFileSync(path.join(fx.root, 'memory/berth/c1/cgroup.procs'), '');
    mgr.killAll('SIGUSR1');
    assert.equal(mgr.freezerState(), 'FROZEN');
    mgr.killAll();
    assert.equal(mgr.freezerState(), 'THAWED');
    throwsWith(() => mgr.killAll('SIGNOPE' as NodeJS.Signals), 'InvalidArgument', /unknown signal "SIGNOPE"/);
  } finally {
    child.kill('SIGKILL');
    fx.cleanup();
  }
});

test('hybrid: the cgroup2 mount gets the cgroup too; hugetlb goes there when v1 lacks it', () => {
  const fx = hybridFixture();
  try {
    const mgr = new CgroupManager(fx.layout, '/berth/c1', { fs: fx.kernel });
    mgr.create({ memory: { limit: 64 * M } });
    assert.ok(fs.statSync(path.join(fx.root, 'unified/berth/c1')).isDirectory());
    assert.equal(mgr.procsFiles().at(-1), path.join(fx.root, 'unified/berth/c1/cgroup.procs'));
    // The v1 hierarchies by their tasks files, the cgroup2 mount by cloning into its directory.
    const join = mgr.joinTargets();
    assert.equal(join.into, path.join(fx.root, 'unified/berth/c1'));
    assert.equal(join.tasks.length, mgr.procsFiles().length - 1);
    assert.ok(join.tasks.every((f) => f.endsWith('/berth/c1/tasks') && !f.includes('unified')));
    // Nothing enabled on the cgroup2 mount unless a resource needs it.
    assert.equal(fs.readFileSync(path.join(fx.root, 'unified/cgroup.subtree_control'), 'utf8').trim(), '');
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 2 * M }] })), [
      'unified/cgroup.subtree_control=+hugetlb',
      'unified/berth/cgroup.subtree_control=+hugetlb',
      `unified/berth/c1/hugetlb.2MB.max=${2 * M}`,
      `unified/berth/c1/hugetlb.2MB.rsvd.max=${2 * M}`,
    ]);
    assert.deepEqual(Object.keys(mgr.stats().hugetlb ?? {}), ['1GB', '2MB']);
    // Second time: already enabled, one read of the leaf's cgroup.controllers.
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ hugepageLimits: [{ pageSize: '1GB', limit: -1 }] })), [
      'unified/berth/c1/hugetlb.1GB.max=max',
      'unified/berth/c1/hugetlb.1GB.rsvd.max=max',
    ]);
    // v2 keys of controllers the cgroup2 mount does not offer are refused.
    throwsWith(
      () => mgr.apply({ unified: { 'memory.high': '100M' } }),
      'FailedPrecondition',
      /^linux\.resources\.unified\["memory\.high"\]: .*unified\/berth\/c1\/memory\.high does not exist \(is the memory controller available on this cgroup2 hierarchy\?\)$/,
    );
    assert.equal(mgr.devicesEnforced, true);
    // v1 freezer is used; cgroup.kill is used for SIGKILL, then the per-pid pass.
    mgr.killAll();
    assert.deepEqual(fx.kernel.writesTo('cgroup.kill'), ['1']);
    mgr.destroy();
    assert.ok(!fs.existsSync(path.join(fx.root, 'unified/berth/c1')));
    assert.ok(!mgr.exists());
  } finally {
    fx.cleanup();
  }
});

test('hybrid: a cgroup2 mount offering nothing leaves huge pages unavailable', () => {
  const fx = hybridFixture({}, { controllers: [] });
  try {
    const mgr = new CgroupManager(fx.layout, '/berth/c1', { fs: fx.kernel });
    mgr.create();
    const u = path.join(fx.root, 'unified');
    throwsWith(
      () => mgr.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }),
      'FailedPrecondition',
      `linux.resources.hugepageLimits: the hugetlb cgroup controller is not available (not mounted as a cgroup v1 hierarchy and not offered in ${u}/cgroup.controllers)`,
    );
    mgr.destroy();
  } finally {
    fx.cleanup();
  }
});

test('constructor refuses malformed paths and layouts', () => {
  const layout = { mode: 'v1' as const, v1: { memory: '/x' } };
  for (const p of ['berth/x', '/', '/a/../b', '/a/', '/a//b']) {
    throwsWith(() => new CgroupManager(layout, p), 'InvalidArgument', /^cgroup path /);
  }
  throwsWith(() => new CgroupManager({ mode: 'v2', v1: {} }, '/a'), 'InvalidArgument', /needs a unified/);
  assert.equal(UNLIMITED.length, 19);
});
