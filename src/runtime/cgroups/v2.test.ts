/** The manager on a pure cgroup v2 fixture tree: the exact files and values written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBerthError } from '../../lib/errors.js';
import { CgroupManager } from './index.js';
import { v2Fixture, type Fixture, type V2Options } from './fixture.js';

const M = 1024 * 1024;

function withV2<T>(o: V2Options, fn: (fx: Fixture, mgr: CgroupManager) => T): T {
  const fx = v2Fixture(o);
  try {
    return fn(fx, new CgroupManager(fx.layout, '/berth/c1', { fs: fx.kernel, freezeTimeoutMs: 200 }));
  } finally {
    fx.cleanup();
  }
}

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

const read = (fx: Fixture, f: string) => fs.readFileSync(path.join(fx.root, f), 'utf8').trim();

test('v2 create: one directory; the ancestors delegate every controller they offer', () => {
  withV2({}, (fx, mgr) => {
    const w = writesAfter(fx, () => mgr.create());
    assert.deepEqual(w, [
      'cgroup.subtree_control=+cpuset +cpu +io +memory +hugetlb +pids +rdma',
      'berth/cgroup.subtree_control=+cpuset +cpu +io +memory +hugetlb +pids +rdma',
    ]);
    assert.equal(read(fx, 'berth/c1/cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma');
    assert.equal(read(fx, 'berth/c1/cgroup.subtree_control'), '', 'the leaf delegates nothing');
    assert.deepEqual(mgr.procsFiles(), [path.join(fx.root, 'berth/c1/cgroup.procs')]);
    assert.deepEqual(mgr.joinTargets(), { tasks: [], into: path.join(fx.root, 'berth/c1') });
    assert.equal(mgr.devicesEnforced, false);
    // A second container: everything is enabled already, nothing is written.
    const other = new CgroupManager(fx.layout, '/berth/c2', { fs: fx.kernel });
    assert.deepEqual(writesAfter(fx, () => other.create()), []);
  });
});

test('v2 create: controllers the kernel refuses are skipped, then reported by the resource that needs them', () => {
  withV2({}, (fx, mgr) => {
    fx.kernel.failWrite = (f, v) => (f.endsWith('subtree_control') && v.split(' ').includes('+cpu') ? 'EBUSY' : undefined);
    mgr.create();
    assert.equal(read(fx, 'berth/c1/cgroup.controllers'), 'cpuset io memory hugetlb pids rdma');
    throwsWith(
      () => mgr.apply({ cpu: { shares: 1024 } }),
      'FailedPrecondition',
      `linux.resources.cpu: write ${path.join(fx.root, 'cgroup.subtree_control')} "+cpu": device or resource busy`,
    );
  });
});

test('v2 create: a controller the hierarchy does not offer', () => {
  withV2({ controllers: ['memory', 'cpu'] }, (fx, mgr) => {
    throwsWith(
      () => mgr.create({ pids: { limit: 10 } }),
      'FailedPrecondition',
      `linux.resources.pids.limit: the pids cgroup controller is not available (not offered in ${fx.root}/cgroup.controllers)`,
    );
    assert.ok(!mgr.exists(), 'cleaned up');
    assert.ok(!fs.existsSync(path.join(fx.root, 'berth')));
    // Lifting a limit needs no controller.
    mgr.create({ pids: { limit: 0 } });
  });
});

test('v2 memory: memory.max, memory.swap.max = swap - limit, memory.low; v1-only settings are notes', () => {
  withV2({}, (fx, mgr) => {
    mgr.create();
    let notes: string[] = [];
    const w = writesAfter(
      fx,
      () =>
        (notes = mgr.apply({
          memory: { limit: 64 * M, swap: 96 * M, reservation: 32 * M, swappiness: 0, disableOOMKiller: true, kernel: 8 * M, kernelTCP: 8 * M },
        })),
    );
    assert.deepEqual(w, [
      `berth/c1/memory.swap.max=${32 * M}`,
      `berth/c1/memory.max=${64 * M}`,
      `berth/c1/memory.low=${32 * M}`,
    ]);
    assert.deepEqual(
      notes.map((n) => n.slice(0, n.indexOf(':'))),
      [
        'linux.resources.memory.swappiness',
        'linux.resources.memory.disableOOMKiller',
        'linux.resources.memory.kernel',
        'linux.resources.memory.kernelTCP',
      ],
    );
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ memory: { limit: -1 } })), [
      'berth/c1/memory.swap.max=max',
      'berth/c1/memory.max=max',
    ]);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ memory: { limit: 64 * M, swap: -1 } })), [
      'berth/c1/memory.swap.max=max',
      `berth/c1/memory.max=${64 * M}`,
    ]);
    // A swap total alone is taken relative to the memory limit in force.
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ memory: { swap: 100 * M } })), [`berth/c1/memory.swap.max=${36 * M}`]);
    mgr.apply({ memory: { limit: -1 } });
    throwsWith(
      () => mgr.apply({ memory: { swap: 100 * M } }),
      'InvalidArgument',
      'linux.resources.memory.swap: a swap limit needs a memory limit (swap is the total of memory and swap)',
    );
  });
  withV2({ swap: false }, (_fx, mgr) => {
    mgr.create();
    throwsWith(
      () => mgr.apply({ memory: { limit: 64 * M, swap: 128 * M } }),
      'FailedPrecondition',
      /^linux\.resources\.memory\.swap: swap accounting is not enabled on this host \(no .*memory\.swap\.max\)$/,
    );
    mgr.apply({ memory: { limit: -1 } });
  });
});

test('v2 cpu: shares → weight, cpu.max, burst, idle; real-time is an error', () => {
  withV2({}, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 1 } })), [
      'berth/c1/cpu.weight=39',
      'berth/c1/cpu.max=50000 100000',
      'berth/c1/cpu.max.burst=1000',
      'berth/c1/cpu.idle=1',
    ]);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { shares: 2, quota: -1 } })), ['berth/c1/cpu.weight=1', 'berth/c1/cpu.max=max']);
    fs.writeFileSync(path.join(fx.root, 'berth/c1/cpu.max'), '30000 100000\n');
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { period: 200000 } })), ['berth/c1/cpu.max=30000 200000']);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { quota: -1, period: 50000 } })), ['berth/c1/cpu.max=max 50000']);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { shares: 262144 } })), ['berth/c1/cpu.weight=10000']);
    throwsWith(
      () => mgr.apply({ cpu: { realtimeRuntime: 1000 } }),
      'FailedPrecondition',
      'linux.resources.cpu.realtimeRuntime: real-time CPU budgets are not supported on cgroup v2',
    );
  });
});

test('v2 cpuset and pids', () => {
  withV2({}, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ cpu: { cpus: '0', mems: '0' }, pids: { limit: 64 } })), [
      'berth/c1/cpuset.cpus=0',
      'berth/c1/cpuset.mems=0',
      'berth/c1/pids.max=64',
    ]);
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ pids: { limit: -1 } })), ['berth/c1/pids.max=max']);
  });
});

test('v2 io: io.weight converted, io.bfq.weight as given, io.max one line per device', () => {
  withV2({}, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(
      writesAfter(fx, () =>
        mgr.apply({
          blockIO: {
            weight: 500,
            weightDevice: [{ major: 8, minor: 0, weight: 1000 }],
            throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
            throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
            throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
            throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
          },
        }),
      ),
      [
        'berth/c1/io.weight=4950',
        'berth/c1/io.weight=8:0 10000',
        'berth/c1/io.max=8:0 rbps=1048576 wbps=2097152 wiops=max',
        'berth/c1/io.max=8:16 riops=100',
      ],
    );
    throwsWith(() => mgr.apply({ blockIO: { leafWeight: 100 } }), 'FailedPrecondition', 'linux.resources.blockIO.leafWeight: leaf weights do not exist on cgroup v2');
  });
  withV2({ bfq: true }, (fx, mgr) => {
    mgr.create();
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } })), [
      'berth/c1/io.bfq.weight=500',
      'berth/c1/io.bfq.weight=8:0 200',
    ]);
  });
  withV2({}, (fx, mgr) => {
    mgr.create();
    fs.unlinkSync(path.join(fx.root, 'berth/c1/io.weight'));
    throwsWith(
      () => mgr.apply({ blockIO: { weight: 500 } }),
      'FailedPrecondition',
      /^linux\.resources\.blockIO\.weight: no io weight file in .*berth\/c1 \(neither io\.bfq\.weight nor io\.weight\)/,
    );
  });
});

test('v2 hugetlb, rdma, devices (not enforced), unified', () => {
  withV2({}, (fx, mgr) => {
    mgr.create();
    let notes: string[] = [];
    const w = writesAfter(
      fx,
      () =>
        (notes = mgr.apply({
          hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }],
          rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 1000 }, mlx4_0: { hcaHandles: 1 } },
          devices: [{ allow: false, access: 'rwm' }],
          unified: { 'memory.high': '50000000', 'pids.max': '7' },
        })),
    );
    assert.deepEqual(w, [
      `berth/c1/hugetlb.2MB.max=${4 * M}`,
      `berth/c1/hugetlb.2MB.rsvd.max=${4 * M}`,
      'berth/c1/rdma.max=mlx5_0 hca_handle=3 hca_object=1000',
      'berth/c1/rdma.max=mlx4_0 hca_handle=1 hca_object=max',
      'berth/c1/memory.high=50000000',
      'berth/c1/pids.max=7',
    ]);
    assert.deepEqual(notes, [
      'linux.resources.devices: not enforced: cgroup v2 device control needs an eBPF device program, and none can be loaded here',
    ]);
    throwsWith(
      () => mgr.apply({ unified: { 'memory.nope': '1' } }),
      'FailedPrecondition',
      /^linux\.resources\.unified\["memory\.nope"\]: .*memory\.nope does not exist/,
    );
    throwsWith(
      () => mgr.apply({ network: { classID: 1 } }),
      'FailedPrecondition',
      `linux.resources.network.classID: the net_cls cgroup controller is not available (not offered in ${fx.root}/cgroup.controllers)`,
    );
  });
});

test('v2 unified keys enable their controller when it is offered but off', () => {
  withV2({}, (fx, mgr) => {
    fx.kernel.failWrite = (f) => (f.endsWith('subtree_control') ? 'EBUSY' : undefined);
    mgr.create();
    fx.kernel.failWrite = undefined;
    assert.deepEqual(writesAfter(fx, () => mgr.apply({ unified: { 'memory.high': 'max' } })), [
      'cgroup.subtree_control=+memory',
      'berth/cgroup.subtree_control=+memory',
      'berth/c1/memory.high=max',
    ]);
  });
});

test('v2 stats and oomKilled', () => {
  withV2({}, (fx, mgr) => {
    mgr.create({ memory: { limit: 64 * M, swap: 128 * M }, pids: { limit: 20 } });
    const put = (f: string, v: string) => fs.writeFileSync(path.join(fx.root, 'berth/c1', f), v);
    put('memory.current', '5000\n');
    put('memory.peak', '6000\n');
    put('memory.events', 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    put('memory.swap.current', '100\n');
    put('memory.stat', 'anon 10\nfile 20\n');
    put('cpu.stat', 'usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 5\nnr_throttled 2\nthrottled_usec 7\n');
    put('pids.current', '3\n');
    put('io.stat', '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n');
    put('hugetlb.2MB.current', '2097152\n');
    put('hugetlb.2MB.events', 'max 1\n');
    assert.deepEqual(mgr.stats(), {
      memory: { usage: 5000, maxUsage: 6000, limit: 64 * M, failcnt: 4, oomKill: 1, swapUsage: 100, swapLimit: 128 * M, stat: { anon: 10, file: 20 } },
      cpu: { usageTotal: 30000, usageUser: 20000, usageSystem: 10000, throttling: { periods: 5, throttledPeriods: 2, throttledTime: 7000 } },
      pids: { current: 3, limit: 20 },
      blkio: { devices: [{ major: 8, minor: 0, readBytes: 4096, writeBytes: 8192, readIos: 1, writeIos: 2 }] },
      hugetlb: { '1GB': { usage: 0, failcnt: 0 }, '2MB': { usage: 2097152, failcnt: 1 } },
    });
    assert.equal(mgr.oomKilled(), 1);
  });
});

test('v2 freeze/thaw through cgroup.freeze and cgroup.events; killAll uses cgroup.kill', () => {
  withV2({}, (fx, mgr) => {
    mgr.create();
    mgr.freeze();
    assert.equal(read(fx, 'berth/c1/cgroup.freeze'), '1');
    assert.equal(mgr.freezerState(), 'FROZEN');
    mgr.thaw();
    assert.equal(mgr.freezerState(), 'THAWED');
    mgr.killAll();
    assert.deepEqual(fx.kernel.writesTo('cgroup.kill'), ['1']);
    assert.deepEqual(fx.kernel.writesTo('cgroup.freeze'), ['1', '0'], 'no freezing around cgroup.kill');
    // Stuck: cgroup.events never says frozen.
    const write = fx.kernel.write.bind(fx.kernel);
    fx.kernel.write = (f, v) => {
      write(f, v);
      if (f.endsWith('cgroup.freeze')) fs.writeFileSync(path.join(path.dirname(f), 'cgroup.events'), 'populated 1\nfrozen 0\n');
    };
    throwsWith(() => mgr.freeze(), 'Unavailable', 'freeze cgroup /berth/c1: not frozen after 200 ms');
    assert.equal(read(fx, 'berth/c1/cgroup.freeze'), '0', 'thawed again');
    mgr.destroy();
    assert.ok(!mgr.exists());
    assert.ok(fs.existsSync(path.join(fx.root, 'berth')));
  });
});
