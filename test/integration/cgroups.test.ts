/**
 * The cgroup manager on this host's real cgroups (v1, hybrid or v2, as detected), as root: a cgroup
 * under a random name, limits read back from the kernel's files, a child process joined, counted,
 * frozen, thawed and killed, and the cgroup removed. Everything made here is removed in `after`,
 * also on failure; only processes started here are signalled.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/lib/errors.js';
import { CgroupManager, detectCgroups, type CgroupLayout } from '../../src/runtime/cgroups/index.js';

const M = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

function detect(): CgroupLayout | string {
  try {
    return detectCgroups();
  } catch (e) {
    return `no cgroups here: ${(e as Error).message}`;
  }
}
const detected = isRoot ? detect() : 'needs root';
const layout = typeof detected === 'string' ? undefined : detected;
const skipAll = typeof detected === 'string' ? detected : false;

const rootControllers = new Set(
  layout?.unified ? readFileSync(join(layout.unified, 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [],
);
/** The directory of `path` in the hierarchy that carries `ctrl` (v1 name; v2 name in `v2`), or undefined. */
function dirFor(path: string, ctrl: string, v2 = ctrl): string | undefined {
  if (!layout) return undefined;
  if (layout.mode !== 'v2' && layout.v1[ctrl]) return join(layout.v1[ctrl]!, path);
  if (layout.unified && rootControllers.has(v2)) return join(layout.unified, path);
  return undefined;
}
const missing = (ctrl: string) => `the ${ctrl} controller is not available on this host`;
const read = (file: string) => readFileSync(file, 'utf8').trim();

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
    else child.once('exit', (code, sig) => resolve(sig ?? code));
  });
}

describe('cgroups on this host', { skip: skipAll }, () => {
  const name = `/berth-test-${randomBytes(6).toString('hex')}`;
  const mgr = layout ? new CgroupManager(layout, name) : undefined!;
  const children: ChildProcess[] = [];
  let restoreHugetlb: string | undefined;
  const memDir = dirFor(name, 'memory');
  const cpuDir = dirFor(name, 'cpu');
  const pidsDir = dirFor(name, 'pids');

  after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await exited(c);
      }
    }
    try {
      mgr.destroy();
    } catch (e) {
      console.error(`# cleanup: ${(e as Error).message}`);
    }
    if (restoreHugetlb) {
      try {
        writeFileSync(restoreHugetlb, '-hugetlb');
      } catch (e) {
        console.error(`# cleanup: could not disable hugetlb again in ${restoreHugetlb}: ${(e as Error).message}`);
      }
    }
  });

  it(`detects the layout (${layout?.mode})`, () => {
    assert.ok(['v1', 'hybrid', 'v2'].includes(layout!.mode));
    console.log(`# layout: ${JSON.stringify(layout)}`);
  });

  it('creates the cgroup with memory, cpu quota and pids limits, as the kernel files show', () => {
    const notes = mgr.create({
      ...(memDir ? { memory: { limit: 64 * M } } : {}),
      ...(cpuDir ? { cpu: { quota: 50000, period: 100000 } } : {}),
      ...(pidsDir ? { pids: { limit: 32 } } : {}),
    });
    assert.deepEqual(notes, []);
    assert.ok(mgr.exists());
    for (const f of mgr.procsFiles()) assert.ok(existsSync(dirname(f)), dirname(f));
    if (memDir) {
      const v1 = existsSync(join(memDir, 'memory.limit_in_bytes'));
      assert.equal(read(join(memDir, v1 ? 'memory.limit_in_bytes' : 'memory.max')), String(64 * M));
    } else console.log(`# memory: ${missing('memory')}`);
    if (cpuDir) {
      if (existsSync(join(cpuDir, 'cpu.cfs_quota_us'))) {
        assert.equal(read(join(cpuDir, 'cpu.cfs_quota_us')), '50000');
        assert.equal(read(join(cpuDir, 'cpu.cfs_period_us')), '100000');
      } else assert.equal(read(join(cpuDir, 'cpu.max')), '50000 100000');
    } else console.log(`# cpu: ${missing('cpu')}`);
    if (pidsDir) assert.equal(read(join(pidsDir, 'pids.max')), '32');
    else console.log(`# pids: ${missing('pids')}`);
    const cpusetDir = dirFor(name, 'cpuset');
    if (cpusetDir && layout!.mode !== 'v2') assert.notEqual(read(join(cpusetDir, 'cpuset.cpus')), '', 'cpuset initialised');
  });

  it('updates limits: memory lifted, pids unlimited', { skip: !memDir || !pidsDir ? missing('memory or pids') : false }, () => {
    mgr.apply({ memory: { limit: 128 * M, swap: -1 }, pids: { limit: 0 } });
    const v1 = existsSync(join(memDir!, 'memory.limit_in_bytes'));
    assert.equal(read(join(memDir!, v1 ? 'memory.limit_in_bytes' : 'memory.max')), String(128 * M));
    assert.equal(read(join(pidsDir!, 'pids.max')), 'max');
    mgr.apply({ memory: { limit: 64 * M }, pids: { limit: 32 } });
  });

  it('writes device rules in order (v1 devices controller)', { skip: mgr?.devicesEnforced ? false : 'device rules are not enforced here (no v1 devices controller)' }, () => {
    const notes = mgr.apply({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
        { allow: true, type: 'b', access: 'm' },
      ],
    });
    assert.deepEqual(notes, []);
    const list = read(join(layout!.v1['devices']!, name, 'devices.list')).split('\n').sort();
    assert.deepEqual(list, ['b *:* m', 'c 1:3 rwm', 'c 136:* rwm'].sort());
    // Back to everything allowed, so that the child below is not hindered.
    mgr.apply({ devices: [{ allow: true, access: 'rwm' }] });
    assert.equal(read(join(layout!.v1['devices']!, name, 'devices.list')), 'a *:* rwm');
  });

  it('refuses what the kernel cannot do, with a clear message', () => {
    assert.throws(
      () => mgr.apply({ memory: { limit: 1000 } }),
      (e) => isBerthError(e, 'InvalidArgument') && e.message === 'linux.resources.memory.limit: 1000 is below the minimum of 6 MiB',
    );
    const blk = dirFor(name, 'blkio', 'io');
    if (blk && !['blkio.weight', 'blkio.bfq.weight', 'io.weight', 'io.bfq.weight'].some((f) => existsSync(join(blk, f)))) {
      assert.throws(
        () => mgr.apply({ blockIO: { weight: 500 } }),
        (e) => isBerthError(e, 'FailedPrecondition') && /^linux\.resources\.blockIO\.weight: no (blkio|io) weight file in /.test(e.message),
      );
    }
  });

  let child: ChildProcess;
  it('a child joins through procsFiles() and is seen in /proc and pids()', async () => {
    // A shell that spins once told to, so that it burns CPU only inside the cgroup.
    child = spawn('sh', ['-c', 'read go; while :; do :; done'], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(child);
    const pid = child.pid!;
    for (const f of mgr.procsFiles()) writeFileSync(f, String(pid));
    child.stdin!.write('go\n');
    const lines = read(`/proc/${pid}/cgroup`).split('\n');
    const memLine = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    if (memLine) assert.equal(memLine.slice(memLine.lastIndexOf(':') + 1), name);
    const v2Line = lines.find((l) => l.startsWith('0::'));
    if (layout!.unified) assert.equal(v2Line, `0::${name}`);
    const named = lines.find((l) => l.includes(':name=systemd:'));
    if (layout!.v1['name=systemd'] && layout!.mode !== 'v2') assert.ok(named?.endsWith(`:${name}`), named);
    assert.ok(mgr.pids().includes(pid), `pids() ${JSON.stringify(mgr.pids())} has ${pid}`);
    await sleep(300);
  });

  it('stats() returns sane numbers', () => {
    const s = mgr.stats();
    console.log(`# stats: ${JSON.stringify({ ...s, memory: s.memory && { ...s.memory, stat: '…' } })}`);
    if (memDir) {
      assert.ok(s.memory);
      assert.ok(s.memory.usage >= 0);
      assert.equal(s.memory.limit, 64 * M);
      assert.equal(s.memory.oomKill, 0);
      assert.equal(mgr.oomKilled(), 0);
    }
    if (cpuDir) {
      assert.ok(s.cpu);
      assert.ok(s.cpu.usageTotal > 10_000_000, `cpu ${s.cpu.usageTotal} ns after spinning 300 ms`);
      assert.ok(s.cpu.usageTotal < 1e9, 'a 50% quota caps 300 ms of spinning');
      assert.ok(s.cpu.throttling.periods > 0);
    }
    if (pidsDir) {
      assert.ok(s.pids);
      assert.equal(s.pids.current, 1);
      assert.equal(s.pids.limit, 32);
    }
  });

  it('freeze stops the CPU clock, thaw restarts it', async (t) => {
    let f: string | undefined;
    try {
      f = mgr.freezerState();
    } catch (e) {
      t.skip(`no freezer: ${(e as Error).message}`);
      return;
    }
    assert.equal(f, 'THAWED');
    mgr.freeze();
    assert.equal(mgr.freezerState(), 'FROZEN');
    const a = mgr.stats().cpu?.usageTotal ?? 0;
    await sleep(200);
    const b = mgr.stats().cpu?.usageTotal ?? 0;
    assert.equal(b, a, 'no CPU time while frozen');
    mgr.thaw();
    assert.equal(mgr.freezerState(), 'THAWED');
    await sleep(200);
    const c = mgr.stats().cpu?.usageTotal ?? 0;
    if (cpuDir) assert.ok(c > b, 'CPU time again after thaw');
  });

  it('huge page limits land where the hugetlb controller is', async (t) => {
    const dir = dirFor(name, 'hugetlb');
    if (!dir) return t.skip(missing('hugetlb'));
    const v2 = layout!.mode === 'v2' || !layout!.v1['hugetlb'];
    if (v2 && layout!.mode === 'hybrid') {
      const sc = join(layout!.unified!, 'cgroup.subtree_control');
      if (!read(sc).split(/\s+/).includes('hugetlb')) restoreHugetlb = sc;
    }
    mgr.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] });
    assert.equal(read(join(dir, `hugetlb.2MB.${v2 ? 'max' : 'limit_in_bytes'}`)), String(4 * M));
    assert.ok(mgr.stats().hugetlb?.['2MB'], 'hugetlb stats');
  });

  it('killAll kills the child', async () => {
    const done = exited(child);
    mgr.killAll();
    assert.equal(await done, 'SIGKILL');
    for (let i = 0; i < 50 && mgr.pids().length > 0; i++) await sleep(10);
    assert.deepEqual(mgr.pids(), []);
  });

  it('destroy leaves no directory', () => {
    mgr.destroy();
    assert.ok(!mgr.exists());
    for (const f of mgr.procsFiles()) assert.ok(!existsSync(dirname(f)), dirname(f));
    mgr.destroy(); // again: nothing to do
  });
});

/**
 * The cgroup2 core (cgroup.procs, cgroup.freeze, cgroup.events, cgroup.kill) on the real kernel,
 * through a v2 layout over this host's cgroup2 mount — on hybrid hosts the only way to see the v2
 * code paths against a kernel rather than a fixture.
 */
const unifiedSkip = skipAll || (layout?.unified ? false : 'no cgroup2 mount on this host');
describe('cgroup2 core on this host', { skip: unifiedSkip }, () => {
  const name = `/berth-test-${randomBytes(6).toString('hex')}`;
  const mgr = layout?.unified ? new CgroupManager({ mode: 'v2', v1: {}, unified: layout.unified }, name) : undefined!;
  let child: ChildProcess | undefined;

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    try {
      mgr.destroy();
    } catch (e) {
      console.error(`# cleanup: ${(e as Error).message}`);
    }
  });

  it('joins, freezes, thaws, kills with cgroup.kill and removes', async (t) => {
    mgr.create();
    const dir = join(layout!.unified!, name);
    if (!existsSync(join(dir, 'cgroup.freeze')) || !existsSync(join(dir, 'cgroup.kill'))) {
      return t.skip('this kernel lacks cgroup.freeze or cgroup.kill');
    }
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    writeFileSync(mgr.procsFiles()[0]!, String(pid));
    assert.ok(read(`/proc/${pid}/cgroup`).split('\n').includes(`0::${name}`));
    assert.deepEqual(mgr.pids(), [pid]);
    mgr.freeze();
    assert.equal(mgr.freezerState(), 'FROZEN');
    assert.match(read(join(dir, 'cgroup.events')), /^frozen 1$/m);
    mgr.thaw();
    assert.equal(mgr.freezerState(), 'THAWED');
    const done = exited(child);
    mgr.killAll();
    assert.equal(await done, 'SIGKILL');
    for (let i = 0; i < 50 && mgr.pids().length > 0; i++) await sleep(10);
    mgr.destroy();
    assert.ok(!existsSync(dir));
  });
});
