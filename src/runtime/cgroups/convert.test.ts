import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blkioWeightToIoWeight,
  deviceRuleLine,
  isCpuList,
  isPageSize,
  parseFlatKeyed,
  parseLimit,
  parseNestedKeyed,
  pidsMax,
  sharesToWeight,
  swapToV2,
} from './convert.js';
import { validateResources } from './validate.js';
import { isBerthError } from '../../lib/errors.js';
import type { Resources } from '../../oci/runtime-spec.js';

test('sharesToWeight: 1 + ((shares - 2) * 9999) / 262142', () => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262144), 10000);
});

test('blkioWeightToIoWeight: 1 + ((w - 10) * 9999) / 990', () => {
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
});

test('swapToV2: memory+swap total to swap alone', () => {
  const M = 1024 * 1024;
  assert.deepEqual(swapToV2(128 * M, 64 * M), { value: String(64 * M) });
  assert.deepEqual(swapToV2(64 * M, 64 * M), { value: '0' });
  assert.deepEqual(swapToV2(-1, 64 * M), { value: 'max' });
  assert.deepEqual(swapToV2(0, -1), { value: 'max' });
  assert.deepEqual(swapToV2(0, 64 * M), {});
  assert.match(swapToV2(32 * M, 64 * M).error!, /below the memory limit/);
  assert.match(swapToV2(32 * M, 0).error!, /needs a memory limit/);
  assert.match(swapToV2(32 * M, -1).error!, /needs a memory limit/);
});

test('deviceRuleLine', () => {
  assert.equal(deviceRuleLine({ allow: false, access: 'rwm' }), 'a *:* rwm');
  assert.equal(deviceRuleLine({ allow: false }), 'a *:* rwm');
  assert.equal(deviceRuleLine({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }), 'c 1:3 rwm');
  assert.equal(deviceRuleLine({ allow: true, type: 'c', major: 136, minor: null, access: 'rw' }), 'c 136:* rw');
  assert.equal(deviceRuleLine({ allow: true, type: 'b', major: -1, minor: -1, access: 'm' }), 'b *:* m');
});

test('list and size syntax', () => {
  for (const ok of ['0', '0-3', '0,2,4-7', '10-10']) assert.ok(isCpuList(ok), ok);
  for (const bad of ['', '3-1', '0-', 'a', '0,,1', ' 0', '0-3,']) assert.ok(!isCpuList(bad), bad);
  for (const ok of ['2MB', '1GB', '64KB']) assert.ok(isPageSize(ok), ok);
  for (const bad of ['2M', '2mb', '0MB', '2 MB']) assert.ok(!isPageSize(bad), bad);
  assert.equal(pidsMax(10), '10');
  assert.equal(pidsMax(0), 'max');
  assert.equal(pidsMax(-1), 'max');
});

test('parsers', () => {
  assert.equal(parseLimit('max\n'), null);
  assert.equal(parseLimit('9223372036854771712\n'), null);
  assert.equal(parseLimit('67108864\n'), 67108864);
  assert.deepEqual(parseFlatKeyed('a 1\nb 2\n\nbad\n'), { a: 1, b: 2 });
  assert.deepEqual(parseNestedKeyed('8:0 rbytes=1 wbytes=2\n'), { '8:0': { rbytes: '1', wbytes: '2' } });
});

function rejects(r: Resources, message: string | RegExp): void {
  assert.throws(
    () => validateResources(r),
    (e) => isBerthError(e, 'InvalidArgument') && (typeof message === 'string' ? e.message === message : message.test(e.message)),
    JSON.stringify(r),
  );
}

test('validateResources: messages name the JSON path, the value and the reason', () => {
  rejects({ memory: { limit: 1000 } }, 'linux.resources.memory.limit: 1000 is below the minimum of 6 MiB');
  rejects({ memory: { limit: -2 } }, 'linux.resources.memory.limit: -2 must be -1 (unlimited) or a number of bytes');
  rejects({ memory: { limit: 12582912.5 } }, /memory.limit: .* is not an integer/);
  rejects(
    { memory: { limit: 64 << 20, swap: 32 << 20 } },
    'linux.resources.memory.swap: 33554432 is below linux.resources.memory.limit 67108864 (swap is the total of memory and swap)',
  );
  rejects({ memory: { swappiness: 101 } }, 'linux.resources.memory.swappiness: 101 is out of range (0-100)');
  rejects({ cpu: { shares: 1 } }, 'linux.resources.cpu.shares: 1 is out of range (2-262144)');
  rejects({ cpu: { quota: 10 } }, 'linux.resources.cpu.quota: 10 must be -1 (unlimited) or at least 1000 (microseconds)');
  rejects({ cpu: { period: 100 } }, 'linux.resources.cpu.period: 100 is out of range (1000-1000000)');
  rejects({ cpu: { cpus: '3-1' } }, 'linux.resources.cpu.cpus: "3-1" is not a list like "0-3,5"');
  rejects({ cpu: { mems: 'x' } }, 'linux.resources.cpu.mems: "x" is not a list like "0-3,5"');
  rejects({ cpu: { idle: 2 } }, 'linux.resources.cpu.idle: 2 must be 0 or 1');
  rejects({ cpu: { burst: -1 } }, 'linux.resources.cpu.burst: -1 must not be negative');
  rejects({ blockIO: { weight: 5 } }, 'linux.resources.blockIO.weight: 5 is out of range (10-1000)');
  rejects(
    { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -1 }] } },
    'linux.resources.blockIO.throttleReadBpsDevice[0].rate: -1 must not be negative',
  );
  rejects(
    { hugepageLimits: [{ pageSize: '2M', limit: 0 }] },
    'linux.resources.hugepageLimits[0].pageSize: "2M" is not a page size like "2MB" or "1GB"',
  );
  rejects({ devices: [{ allow: true, access: 'rwx' }] }, /devices\[0\]\.access: "rwx" must be a combination/);
  rejects({ devices: [{ allow: true, type: 'z' }] }, /devices\[0\]\.type: "z" must be/);
  rejects({ network: { classID: -1 } }, /network\.classID: -1 is not a 32-bit/);
  rejects({ unified: { '../x': '1' } }, /unified\["\.\.\/x"\]: not a cgroup v2 file name/);
  rejects({ unified: { 'cgroup.procs': '1' } }, /cgroup.procs is managed by the runtime/);
  // Fine:
  validateResources({
    memory: { limit: -1, swap: -1, swappiness: -1, reservation: 0 },
    cpu: { shares: 1024, quota: -1, period: 100000, cpus: '0-1', mems: '' },
    pids: { limit: 0 },
    devices: [{ allow: false, access: 'rwm' }],
  });
});
