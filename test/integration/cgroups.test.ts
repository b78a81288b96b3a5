/**
 * The cgroup manager on this host's real cgroups (v1, hybrid or v2, as detected), as root: a cgroup
 * under a random name, limits read back from the kernel's files, a child process joined, counted,
 * frozen, thawed and killed, and the cgroup removed. Everything made here is removed in `after`,
 * also on failure; only processes started here are signalled.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/lib/errors.js';
import { CgroupManager, detectCgroups, type CgroupLayout } from '../../src/runtime/cgroups/index.js';
import { waitFor } from '../helpers.js';

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

/** Resolves with the child's first stdout line equal to `line`; rejects if it exits first. */
function lineFrom(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (buf.split('\n').includes(line)) resolve();
    });
    child.once('exit', (code, sig) => reject(new Error(`the child exited (${sig ?? code}) before printing ${JSON.stringify(line)}`)));
  });
}

/** Thaws `mgr` when it is frozen (a test that failed between freeze and thaw); reports, never throws. */
function thawIfFrozen(mgr: CgroupManager): void {
  try {
    if (mgr.freezerState() !== 'THAWED') mgr.thaw();
  } catch (e) {
    console.error(`# cleanup: thaw: ${(e as Error).message}`);
  }
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

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
    // A frozen process cannot die on v1: thaw first, whatever a failed test left.
    if (mgr.exists()) thawIfFrozen(mgr);
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

  it(`detects the layout (${layout?.mode}) the kernel shows in /proc/self/cgroup and statfs`, (t) => {
    t.diagnostic(`layout: ${JSON.stringify(layout)}`);
    // /proc/self/cgroup: "0::path" for cgroup2, "N:ctrl,ctrl:path" per v1 hierarchy.
    const lines = read('/proc/self/cgroup').split('\n');
    const v1Ctrls = new Set(lines.filter((l) => !l.startsWith('0:')).flatMap((l) => l.split(':')[1]!.split(',')));
    const hasUnified = lines.some((l) => l.startsWith('0::'));
    for (const [ctrl, mp] of Object.entries(layout!.v1)) {
      assert.ok(v1Ctrls.has(ctrl), `${ctrl} (at ${mp}) is a v1 hierarchy of this process`);
      assert.equal(statfsSync(mp).type, CGROUP_SUPER_MAGIC, `${mp} is a cgroup (v1) file system`);
      assert.ok(existsSync(join(mp, 'cgroup.procs')), `${mp}/cgroup.procs`);
    }
    if (layout!.unified) {
      assert.ok(hasUnified, 'this process has a cgroup2 line');
      assert.equal(statfsSync(layout!.unified).type, CGROUP2_SUPER_MAGIC, `${layout!.unified} is a cgroup2 file system`);
    }
    const v1Core = ['memory', 'cpu', 'pids'].filter((c) => v1Ctrls.has(c) && layout!.v1[c]);
    const want = v1Core.length > 0 ? (layout!.unified ? 'hybrid' : 'v1') : 'v2';
    assert.equal(layout!.mode, want, `v1 core controllers mounted: ${v1Core.join(',') || 'none'}; cgroup2: ${layout!.unified ?? 'none'}`);
  });

  it('creates the cgroup in every hierarchy', () => {
    const notes = mgr.create({
      ...(memDir ? { memory: { limit: 64 * M } } : {}),
      ...(cpuDir ? { cpu: { quota: 50000, period: 100000 } } : {}),
      ...(pidsDir ? { pids: { limit: 32 } } : {}),
    });
    assert.deepEqual(notes, []);
    assert.ok(mgr.exists());
    for (const f of mgr.procsFiles()) assert.ok(existsSync(dirname(f)), dirname(f));
    const cpusetDir = dirFor(name, 'cpuset');
    if (cpusetDir && layout!.mode !== 'v2') assert.notEqual(read(join(cpusetDir, 'cpuset.cpus')), '', 'cpuset initialised');
  });

  it('the memory limit is in the kernel\'s file', { skip: memDir ? false : missing('memory') }, () => {
    const v1 = existsSync(join(memDir!, 'memory.limit_in_bytes'));
    assert.equal(read(join(memDir!, v1 ? 'memory.limit_in_bytes' : 'memory.max')), String(64 * M));
  });

  it('the cpu quota is in the kernel\'s files', { skip: cpuDir ? false : missing('cpu') }, () => {
    if (existsSync(join(cpuDir!, 'cpu.cfs_quota_us'))) {
      assert.equal(read(join(cpuDir!, 'cpu.cfs_quota_us')), '50000');
      assert.equal(read(join(cpuDir!, 'cpu.cfs_period_us')), '100000');
    } else assert.equal(read(join(cpuDir!, 'cpu.max')), '50000 100000');
  });

  it('the pids limit is in the kernel\'s file', { skip: pidsDir ? false : missing('pids') }, () => {
    assert.equal(read(join(pidsDir!, 'pids.max')), '32');
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
    // A shell that, once told to (so inside the cgroup), fills a variable of 8 MB (memory charged
    // to the cgroup), says so, and spins (CPU time only there).
    child = spawn('sh', ['-c', 'read go; x=$(head -c 8000000 /dev/zero | tr "\\0" a); echo "${#x}"; echo filled; while :; do :; done'], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(child);
    const pid = child.pid!;
    for (const f of mgr.procsFiles()) writeFileSync(f, String(pid));
    const filled = lineFrom(child, 'filled');
    child.stdin!.write('go\n');
    await filled;
    const lines = read(`/proc/${pid}/cgroup`).split('\n');
    const memLine = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    if (memLine) assert.equal(memLine.slice(memLine.lastIndexOf(':') + 1), name);
    const v2Line = lines.find((l) => l.startsWith('0::'));
    if (layout!.unified) assert.equal(v2Line, `0::${name}`);
    const named = lines.find((l) => l.includes(':name=systemd:'));
    if (layout!.v1['name=systemd'] && layout!.mode !== 'v2') assert.ok(named?.endsWith(`:${name}`), named);
    assert.deepEqual(mgr.pids(), [pid], 'the shell alone: head and tr have ended');
  });

  it('stats() shows the memory the child filled, the CPU quota holding, and its one process', async (t) => {
    if (cpuDir) {
      // Some enforcement periods with the child spinning (how long they take depends on the
      // machine's load; the deadline only bounds a hang).
      await waitFor('10 periods of the CPU quota', () => (mgr.stats().cpu?.throttling.periods ?? 0) >= 10);
    }
    const s = mgr.stats();
    t.diagnostic(`stats: ${JSON.stringify({ ...s, memory: s.memory && { ...s.memory, stat: '…' } })}`);
    if (memDir) {
      assert.ok(s.memory);
      assert.ok(s.memory.usage >= 8_000_000, `usage ${s.memory.usage} holds the child's 8 MB variable`);
      assert.equal(s.memory.limit, 64 * M);
      assert.ok(s.memory.usage <= 64 * M, 'within the limit');
      assert.equal(s.memory.oomKill, 0);
      assert.equal(mgr.oomKilled(), 0);
    } else t.diagnostic(missing('memory'));
    if (cpuDir) {
      assert.ok(s.cpu);
      assert.ok(s.cpu.usageTotal > 0, `cpu ${s.cpu.usageTotal} ns`);
      assert.ok(s.cpu.throttling.periods >= s.cpu.throttling.throttledPeriods);
      // The quota holds: at most 50 ms of CPU per 100 ms period the child ran in (two periods of
      // slack for the ones the counters were read in), however long those periods took.
      const cap = (s.cpu.throttling.periods + 2) * 50_000_000;
      assert.ok(s.cpu.usageTotal <= cap, `cpu ${s.cpu.usageTotal} ns in ${s.cpu.throttling.periods} periods of a 50 ms quota: over ${cap}`);
    } else t.diagnostic(missing('cpu'));
    if (pidsDir) {
      assert.ok(s.pids);
      assert.equal(s.pids.current, 1);
      assert.equal(s.pids.limit, 32);
    } else t.diagnostic(missing('pids'));
    if (!memDir && !cpuDir && !pidsDir) t.skip(missing('memory, cpu and pids'));
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
    let b = 0;
    mgr.freeze();
    try {
      assert.equal(mgr.freezerState(), 'FROZEN');
      const a = mgr.stats().cpu?.usageTotal ?? 0;
      await sleep(200); // a window to look in; the check holds for any length
      b = mgr.stats().cpu?.usageTotal ?? 0;
      assert.equal(b, a, 'no CPU time while frozen');
    } finally {
      mgr.thaw();
    }
    assert.equal(mgr.freezerState(), 'THAWED');
    if (cpuDir) await waitFor('CPU time again after thaw', () => (mgr.stats().cpu?.usageTotal ?? 0) > b);
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
    await waitFor('the cgroup to be empty after killAll', () => mgr.pids().length === 0);
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
    if (mgr.exists()) thawIfFrozen(mgr);
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
    try {
      assert.equal(mgr.freezerState(), 'FROZEN');
      assert.match(read(join(dir, 'cgroup.events')), /^frozen 1$/m);
    } finally {
      mgr.thaw();
    }
    assert.equal(mgr.freezerState(), 'THAWED');
    assert.match(read(join(dir, 'cgroup.events')), /^frozen 0$/m);
    const done = exited(child);
    mgr.killAll();
    assert.equal(await done, 'SIGKILL');
    await waitFor('the cgroup to be empty after cgroup.kill', () => mgr.pids().length === 0);
    mgr.destroy();
    assert.ok(!existsSync(dir));
  });
});
