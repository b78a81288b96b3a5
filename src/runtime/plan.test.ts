/** spec → plan: the ops, their order and their fields, for specs made from defaultSpec(). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '../lib/errors.js';
import type { Spec } from '../oci/runtime-spec.js';
import type { OpName, PlanOp } from '../sys/helper-ops.js';
import { encodePlan } from '../sys/helper-ops.js';
import { CAPABILITIES } from './caps.js';
import { CLONE_NEW, MS, PROPAGATION_FLAGS, S_IF } from './constants.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, defaultSpec } from './default-spec.js';
import {
  DEFAULT_DEVICES,
  DEFAULT_PATH,
  compileCreatePlan,
  compileExecPlan,
  namespacePlan,
  parseMountOptions,
  type ExecPlanInput,
  type PlanInput,
} from './plan.js';

let dir: string;
let bundle: string;
let rootfs: string;
let hostDir: string;
let hostFile: string;

before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'berth-plan-test-')));
  bundle = join(dir, 'bundle');
  rootfs = join(bundle, 'rootfs');
  for (const d of ['bin', 'etc', 'dev', 'proc', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  writeFileSync(join(rootfs, 'bin', 'sh'), '');
  symlinkSync('/etc', join(rootfs, 'evil'));
  symlinkSync('../../../../../../../../etc', join(rootfs, 'evilrel'));
  symlinkSync('/etc', join(rootfs, 'bin', 'evilnested'));
  symlinkSync('/../../tmp/../..', join(rootfs, 'bin', 'up'));
  hostDir = join(dir, 'host-data');
  mkdirSync(hostDir);
  hostFile = join(dir, 'host-file');
  writeFileSync(hostFile, 'x');
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const HOOK_STATE = '{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"}';

function spec(edit?: (s: Spec) => void, opts: Parameters<typeof defaultSpec>[0] = {}): Spec {
  const s = defaultSpec({ args: ['sh', '-c', 'true'], ...opts });
  edit?.(s);
  return s;
}

function input(s: Spec, over: Partial<PlanInput> = {}): PlanInput {
  return {
    spec: s,
    bundle,
    stay: true,
    cgroups: { tasks: [] },
    cgroupMounts: [],
    cgroupV2: false,
    lastCap: 40,
    syncCreateRuntime: false,
    hookState: HOOK_STATE,
    ...over,
  };
}

function plan(s: Spec, over: Partial<PlanInput> = {}): PlanOp[] {
  const ops = compileCreatePlan(input(s, over));
  encodePlan(ops); // every plan must be encodable
  return ops;
}

const names = (ops: PlanOp[]) => ops.map((o) => o.op);
const idx = (ops: PlanOp[], op: OpName, from = 0) => {
  const i = ops.findIndex((o, j) => j >= from && o.op === op);
  assert.ok(i >= 0, `no ${op} op in ${names(ops).join(' ')}`);
  return i;
};
const lastIdx = (ops: PlanOp[], op: OpName) => {
  const i = names(ops).lastIndexOf(op);
  assert.ok(i >= 0, `no ${op} op`);
  return i;
};
const all = (ops: PlanOp[], op: OpName) => ops.filter((o) => o.op === op);
const one = (ops: PlanOp[], op: OpName) => {
  const found = all(ops, op);
  assert.equal(found.length, 1, `exactly one ${op} op expected, got ${found.length}`);
  return found[0]!;
};
const mountsOn = (ops: PlanOp[], target: string) => ops.filter((o) => o.op === 'MOUNT' && o.fields[2] === target);
const inRoot = (p: string) => join(rootfs, p);

function throwsInvalid(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), `expected an InvalidArgument BerthError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('parent stage and clone', () => {
  test('CGROUP_TASKS, CGROUP_INTO, OPEN_FIFO, CONSOLE_CONNECT and SETNS come before CLONE; the user namespace is joined first', () => {
    const s = spec((x) => {
      x.linux!.namespaces = [
        { type: 'network', path: '/proc/1/ns/net' },
        { type: 'ipc', path: '/proc/1/ns/ipc' },
        { type: 'user', path: '/proc/1/ns/user' },
        { type: 'pid' },
        { type: 'mount' },
        { type: 'uts' },
        { type: 'cgroup' },
      ];
    }, { terminal: true });
    const ops = plan(s, {
      cgroups: { tasks: ['/sys/fs/cgroup/memory/berth/c1/tasks', '/sys/fs/cgroup/pids/berth/c1/tasks'], into: '/sys/fs/cgroup/unified/berth/c1' },
      fifo: '/run/berth/c1/exec.fifo',
      consoleSocket: '/tmp/console.sock',
    });
    const clone = idx(ops, 'CLONE');
    assert.equal(all(ops, 'CLONE').length, 1);
    const parent = ops.slice(0, clone);
    assert.deepEqual(
      names(parent).sort(),
      ['CGROUP_TASKS', 'CGROUP_TASKS', 'CGROUP_INTO', 'CONSOLE_CONNECT', 'OPEN_FIFO', 'SETNS', 'SETNS', 'SETNS'].sort(),
    );
    assert.deepEqual(names(parent.slice(0, 3)), ['CGROUP_TASKS', 'CGROUP_TASKS', 'CGROUP_INTO']);
    assert.deepEqual(parent[0]!.fields, ['/sys/fs/cgroup/memory/berth/c1/tasks']);
    // A new cgroup namespace (not one joined by path): the process is cloned into the cgroup2 directory.
    assert.deepEqual(parent[2]!.fields, [1, '/sys/fs/cgroup/unified/berth/c1']);
    assert.deepEqual(one(ops, 'OPEN_FIFO').fields, ['/run/berth/c1/exec.fifo']);
    assert.deepEqual(one(ops, 'CONSOLE_CONNECT').fields, ['/tmp/console.sock']);
    const setns = all(ops, 'SETNS');
    assert.deepEqual(setns[0]!.fields, [CLONE_NEW.user, '/proc/1/ns/user'], 'the user namespace is joined first');
    assert.deepEqual(
      setns.map((o) => o.fields),
      [
        [CLONE_NEW.user, '/proc/1/ns/user'],
        [CLONE_NEW.ipc, '/proc/1/ns/ipc'],
        [CLONE_NEW.network, '/proc/1/ns/net'],
      ],
    );
    // No op of the parent stage after the clone.
    for (const o of ops.slice(clone + 1)) assert.ok(!['SETNS', 'CGROUP_TASKS', 'CGROUP_INTO', 'OPEN_FIFO', 'CONSOLE_CONNECT'].includes(o.op), o.what);
    // Only the created namespaces are clone flags; joined ones are not.
    const flags = CLONE_NEW.pid! | CLONE_NEW.mount! | CLONE_NEW.uts! | CLONE_NEW.cgroup!;
    assert.deepEqual(ops[clone]!.fields, [flags, 0, '', '']);
  });

  test('clone flags of the default namespaces, and detach when not staying', () => {
    const ops = plan(spec(), { stay: false });
    const flags = 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x00020000 | 0x02000000;
    assert.equal(flags, CLONE_NEW.pid! | CLONE_NEW.network! | CLONE_NEW.ipc! | CLONE_NEW.uts! | CLONE_NEW.mount! | CLONE_NEW.cgroup!);
    assert.deepEqual(one(ops, 'CLONE').fields, [flags, 1, '', '']);
    assert.equal(idx(ops, 'CLONE'), 0, 'nothing to do before the clone');
  });

  test('a new user namespace: CLONE_NEWUSER and the uid/gid map text', () => {
    const s = spec((x) => {
      x.linux!.uidMappings = [
        { containerID: 0, hostID: 100000, size: 1000 },
        { containerID: 1000, hostID: 1000, size: 1 },
      ];
      x.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    }, { rootless: true });
    const clone = one(plan(s), 'CLONE');
    const flags = clone.fields[0] as number;
    assert.ok(flags & CLONE_NEW.user!, 'CLONE_NEWUSER');
    assert.ok(flags & CLONE_NEW.cgroup!, 'CLONE_NEWCGROUP');
    assert.equal(clone.fields[2], '0 100000 1000\n1000 1000 1\n');
    assert.equal(clone.fields[3], '0 200000 65536\n');
  });

  test('no maps without a new user namespace, even when the spec has some', () => {
    const s = spec((x) => {
      x.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
    });
    const clone = one(plan(s), 'CLONE');
    assert.equal(clone.fields[2], '');
    assert.equal(clone.fields[3], '');
  });

  test('namespacePlan splits created and joined namespaces', () => {
    const s = spec((x) => {
      x.linux!.namespaces = [{ type: 'pid' }, { type: 'network', path: '/var/run/netns/x' }, { type: 'mount' }];
    });
    const { create, join: joined } = namespacePlan(s);
    assert.deepEqual([...create].sort(), ['mount', 'pid']);
    assert.deepEqual([...joined], [['network', '/var/run/netns/x']]);
    assert.deepEqual(namespacePlan({ ociVersion: '1.0.0' }), { create: new Set(), join: new Map() });
  });

  test("without a mount namespace: no mount at all, only a chroot; a time namespace cannot be created", () => {
    const shared = plan(spec((x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'mount'))));
    assert.equal(all(shared, 'MOUNT').length, 0);
    assert.equal(all(shared, 'PIVOT_ROOT').length, 0);
    assert.equal(all(shared, 'MKNOD').length, 0);
    assert.ok(idx(shared, 'CHROOT') < idx(shared, 'EXEC'));
    // Joining one is fine.
    plan(spec((x) => (x.linux!.namespaces = [...x.linux!.namespaces!.filter((n) => n.type !== 'mount'), { type: 'mount', path: '/proc/1/ns/mnt' }])));
    throwsInvalid(() => plan(spec((x) => x.linux!.namespaces!.push({ type: 'time' }))), /linux\.namespaces.*time/);
  });

  test('a terminal needs a console socket', () => {
    throwsInvalid(() => plan(spec(undefined, { terminal: true })), /process\.terminal.*console-socket/);
  });

  test('oom_score_adj is written right after the clone', () => {
    const ops = plan(spec((x) => (x.process!.oomScoreAdj = -500)));
    const clone = idx(ops, 'CLONE');
    assert.equal(ops[clone + 1]!.op, 'WRITE_FILE');
    assert.deepEqual(ops[clone + 1]!.fields, ['/proc/self/oom_score_adj', '-500']);
  });
});

describe('mounts', () => {
  test('the root: made slave (or private) recursively, then bound onto itself', () => {
    const ops = plan(spec());
    const clone = idx(ops, 'CLONE');
    assert.deepEqual(ops[clone + 1]!.fields, [MS.SLAVE | MS.REC, '', '/', '', '']);
    assert.deepEqual(ops[clone + 2]!.fields, [MS.BIND | MS.REC, rootfs, rootfs, '', '']);
    const priv = plan(spec((x) => (x.linux!.rootfsPropagation = 'rprivate')));
    const c2 = idx(priv, 'CLONE');
    assert.deepEqual(priv[c2 + 1]!.fields, [MS.PRIVATE | MS.REC, '', '/', '', '']);
    // After the pivot, the root gets the asked propagation.
    const pivot = idx(priv, 'PIVOT_ROOT');
    assert.deepEqual(priv[pivot + 1]!.fields, [PROPAGATION_FLAGS.rprivate, '', '/', '', '']);
    const shared = plan(spec((x) => (x.linux!.rootfsPropagation = 'shared')));
    assert.deepEqual(shared[idx(shared, 'PIVOT_ROOT') + 1]!.fields, [MS.SHARED, '', '/', '', '']);
    // None asked (and a writable root): no op on / after the pivot.
    const none = plan(spec((x) => (x.root!.readonly = false)));
    assert.deepEqual(mountsOn(none.slice(idx(none, 'PIVOT_ROOT')), '/'), []);
  });

  test('mounts in spec order, each MKDIR before its MOUNT', () => {
    const s = spec((x) => (x.root!.readonly = false));
    const ops = plan(s);
    const firstMount: number[] = [];
    for (const m of s.mounts!) {
      const target = inRoot(m.destination);
      const mk = ops.findIndex((o) => o.op === 'MKDIR' && o.fields[1] === target);
      const mo = ops.findIndex((o) => o.op === 'MOUNT' && o.fields[2] === target);
      assert.ok(mk >= 0, `MKDIR of ${m.destination}`);
      assert.ok(mo > mk, `MOUNT of ${m.destination} after its MKDIR`);
      assert.equal(ops[mk]!.fields[0], 0o755);
      firstMount.push(mo);
    }
    assert.deepEqual([...firstMount].sort((a, b) => a - b), firstMount, 'mounts follow the spec order');
    // All of them between the clone and the pivot.
    const pivot = idx(ops, 'PIVOT_ROOT');
    assert.ok(firstMount.every((i) => i > idx(ops, 'CLONE') && i < pivot));
  });

  test('fields of plain mounts: flags, source, target, type, data', () => {
    const ops = plan(spec());
    assert.deepEqual(mountsOn(ops, inRoot('/proc')).map((o) => o.fields), [[0, 'proc', inRoot('/proc'), 'proc', '']]);
    assert.deepEqual(mountsOn(ops, inRoot('/dev')).map((o) => o.fields), [
      [MS.NOSUID | MS.STRICTATIME, 'tmpfs', inRoot('/dev'), 'tmpfs', 'mode=755,size=65536k'],
    ]);
    assert.deepEqual(mountsOn(ops, inRoot('/dev/pts')).map((o) => o.fields), [
      [MS.NOSUID | MS.NOEXEC, 'devpts', inRoot('/dev/pts'), 'devpts', 'newinstance,ptmxmode=0666,mode=0620,gid=5'],
    ]);
    assert.deepEqual(mountsOn(ops, inRoot('/sys')).map((o) => o.fields), [
      [MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY, 'sysfs', inRoot('/sys'), 'sysfs', ''],
    ]);
    assert.deepEqual(mountsOn(ops, inRoot('/dev/mqueue'))[0]!.fields[0], MS.NOSUID | MS.NOEXEC | MS.NODEV);
    // In a new user namespace mqueue loses nodev.
    const rootless = plan(spec(undefined, { rootless: true }));
    assert.deepEqual(mountsOn(rootless, inRoot('/dev/mqueue'))[0]!.fields[0], MS.NOSUID | MS.NOEXEC);
  });

  test('bind mounts: bind, a remount with ro/nosuid/..., then propagation', () => {
    const s = spec((x) => {
      x.mounts!.push(
        { destination: '/data', type: 'bind', source: hostDir, options: ['rbind', 'ro', 'nosuid', 'nodev', 'rprivate'] },
        { destination: '/etc/hostname', source: hostFile, options: ['bind'] },
        { destination: '/rel', type: 'bind', source: 'relsrc', options: ['rbind', 'rw'] },
      );
    });
    mkdirSync(join(bundle, 'relsrc'), { recursive: true });
    const ops = plan(s);
    const target = inRoot('/data');
    const i = ops.findIndex((o) => o.op === 'MKDIR' && o.fields[1] === target);
    assert.ok(i > 0);
    assert.deepEqual(
      ops.slice(i, i + 4).map((o) => [o.op, ...o.fields]),
      [
        ['MKDIR', 0o755, target],
        ['MOUNT', MS.BIND | MS.REC, hostDir, target, '', ''],
        ['MOUNT', MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV, hostDir, target, '', ''],
        ['MOUNT', MS.PRIVATE | MS.REC, '', target, '', ''],
      ],
    );
    // A file source gets a file mount point; a plain bind needs no remount.
    const ft = inRoot('/etc/hostname');
    const j = ops.findIndex((o) => o.fields.includes(ft));
    assert.deepEqual(
      ops.slice(j, j + 2).map((o) => [o.op, ...o.fields]),
      [
        ['TOUCH', 0o644, ft],
        ['MOUNT', MS.BIND, hostFile, ft, '', ''],
      ],
    );
    assert.equal(mountsOn(ops, ft).length, 1, 'no remount of a plain bind');
    // A relative source is relative to the bundle; rw alone needs no remount.
    assert.deepEqual(mountsOn(ops, inRoot('/rel')).map((o) => o.fields), [[MS.BIND | MS.REC, join(bundle, 'relsrc'), inRoot('/rel'), '', '']]);
  });

  test('bind mounts: a missing source is an error naming the mount', () => {
    throwsInvalid(
      () => plan(spec((x) => x.mounts!.push({ destination: '/data', type: 'bind', source: join(dir, 'nope'), options: ['rbind'] }))),
      /mounts\[7\]\.source.*does not exist/,
    );
    throwsInvalid(() => plan(spec((x) => x.mounts!.push({ destination: '/data', type: 'bind', options: ['rbind'] }))), /mounts\[7\]\.source/);
  });

  test('propagation options on a plain mount follow it', () => {
    const ops = plan(spec((x) => x.mounts!.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['rshared', 'mode=700'] })));
    assert.deepEqual(mountsOn(ops, inRoot('/mnt')).map((o) => o.fields), [
      [0, 'tmpfs', inRoot('/mnt'), 'tmpfs', 'mode=700'],
      [MS.SHARED | MS.REC, '', inRoot('/mnt'), '', ''],
    ]);
  });

  test('cgroup mounts on cgroup v1 without a cgroup namespace bind the host directories', () => {
    const s = spec((x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'cgroup')));
    const ops = plan(s, {
      cgroupMounts: [{ dir: 'memory', fstype: 'cgroup', data: 'memory', hostDir: '/sys/fs/cgroup/memory/berth/c1' }],
    });
    const t = inRoot('/sys/fs/cgroup');
    const base = MS.NOSUID | MS.NODEV | MS.NOEXEC;
    assert.deepEqual(mountsOn(ops, t).map((o) => o.fields), [
      [base, 'tmpfs', t, 'tmpfs', 'mode=755'],
      [MS.REMOUNT | MS.RDONLY | base, 'tmpfs', t, 'tmpfs', 'mode=755'],
    ]);
    assert.deepEqual(mountsOn(ops, join(t, 'memory')).map((o) => o.fields), [
      [MS.BIND | MS.REC, '/sys/fs/cgroup/memory/berth/c1', join(t, 'memory'), '', ''],
      [MS.BIND | MS.REMOUNT | MS.RDONLY | base, '', join(t, 'memory'), '', ''],
    ]);
    // With a cgroup namespace: a fresh cgroup mount.
    const ns = plan(spec(), { cgroupMounts: [{ dir: 'memory', fstype: 'cgroup', data: 'memory', hostDir: '/x' }] });
    assert.deepEqual(mountsOn(ns, join(t, 'memory')).map((o) => o.fields), [[base | MS.RDONLY, 'cgroup', join(t, 'memory'), 'cgroup', 'memory']]);
    // cgroup v2 with a namespace: cgroup2 on the mount point itself.
    const v2 = plan(spec(), { cgroupV2: true });
    assert.deepEqual(mountsOn(v2, t).map((o) => o.fields), [[base | MS.RDONLY, 'cgroup2', t, 'cgroup2', '']]);
  });

  test('symlinks in the rootfs cannot make a mount target escape it', () => {
    const s = spec((x) => {
      x.mounts!.push(
        { destination: '/evil', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/evil/sub', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/evilrel/x', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/../../../../etc/y', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/bin/../../../tmp', type: 'bind', source: hostDir, options: ['bind'] },
        { destination: '/bin/evilnested/z', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/bin/up/proc/w', type: 'tmpfs', source: 'tmpfs' },
      );
    });
    const ops = plan(s);
    const targets = ops.filter((o) => o.op === 'MOUNT' && o.fields[3] === 'tmpfs').map((o) => o.fields[2] as string);
    assert.ok(targets.includes(inRoot('/etc')), `/evil resolves to rootfs/etc: ${targets.join(' ')}`);
    assert.ok(targets.includes(inRoot('/etc/sub')));
    assert.ok(targets.includes(inRoot('/etc/x')));
    assert.ok(targets.includes(inRoot('/etc/y')));
    assert.ok(targets.includes(inRoot('/etc/z')), 'an absolute link below the root restarts at the rootfs');
    assert.ok(targets.includes(inRoot('/proc/w')), 'a link climbing above / stays at the rootfs');
    assert.deepEqual(mountsOn(ops, inRoot('/tmp'))[0]!.fields, [MS.BIND, hostDir, inRoot('/tmp'), '', '']);
    // No path the plan creates or mounts on before the pivot lies outside the rootfs.
    const inside = (p: string) => p === rootfs || p.startsWith(rootfs + '/');
    for (const o of ops.slice(0, idx(ops, 'PIVOT_ROOT'))) {
      if (o.op === 'MKDIR' || o.op === 'TOUCH' || o.op === 'MKNOD' || o.op === 'SYMLINK') {
        const p = o.fields[o.fields.length - 1] as string;
        assert.ok(inside(p), `${o.op} ${p} escapes the rootfs`);
      }
      if (o.op === 'MOUNT' && o.fields[2] !== '/') assert.ok(inside(o.fields[2] as string), `MOUNT on ${String(o.fields[2])} escapes the rootfs`);
    }
  });
});

describe('parseMountOptions', () => {
  test('flags, propagation and data', () => {
    const o = parseMountOptions(['ro', 'nosuid', 'nodev', 'noexec', 'rbind', 'rprivate', 'mode=755', 'size=64k']);
    assert.equal(o.flags, MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.BIND | MS.REC);
    assert.deepEqual(o.propagation, [MS.PRIVATE | MS.REC]);
    assert.deepEqual(o.data, ['mode=755', 'size=64k']);
    assert.equal(o.bind, true);
    assert.equal(o.recursive, true);
    assert.equal(o.bindRemount, true);
  });

  test('later words override earlier ones; clearing words', () => {
    assert.equal(parseMountOptions(['ro', 'rw']).flags, 0);
    assert.equal(parseMountOptions(['nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec']).flags, 0);
    assert.equal(parseMountOptions(['rw', 'ro']).flags, MS.RDONLY);
    assert.equal(parseMountOptions(['noatime', 'nodiratime', 'relatime', 'strictatime', 'sync', 'dirsync']).flags,
      MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.SYNCHRONOUS | MS.DIRSYNC);
    assert.equal(parseMountOptions(['nosymfollow', 'lazytime', 'mand']).flags, MS.NOSYMFOLLOW | MS.LAZYTIME | MS.MANDLOCK);
  });

  test('bind alone: no remount; bind vs rbind; all propagation words', () => {
    const b = parseMountOptions(['bind']);
    assert.deepEqual(b, { flags: MS.BIND, bindRemount: false, propagation: [], data: [], bind: true, recursive: false });
    assert.equal(parseMountOptions(['rbind']).recursive, true);
    assert.deepEqual(
      parseMountOptions(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']).propagation,
      [MS.PRIVATE, MS.PRIVATE | MS.REC, MS.SHARED, MS.SHARED | MS.REC, MS.SLAVE, MS.SLAVE | MS.REC, MS.UNBINDABLE, MS.UNBINDABLE | MS.REC],
    );
  });

  test('no options; data words are passed through in order; idmap words are dropped', () => {
    assert.deepEqual(parseMountOptions(), { flags: 0, bindRemount: false, propagation: [], data: [], bind: false, recursive: false });
    assert.deepEqual(parseMountOptions(['mode=1777', 'uid=5', 'newinstance', 'tmpcopyup', 'idmap', 'ridmap', 'size=1m']).data, [
      'mode=1777',
      'uid=5',
      'newinstance',
      'size=1m',
    ]);
  });
});

describe('devices', () => {
  const makedev = (ma: number, mi: number) => BigInt((ma << 8) | mi);

  test('without a user namespace: MKNOD of the default devices after the /dev mount', () => {
    const ops = plan(spec());
    const mknod = all(ops, 'MKNOD');
    assert.deepEqual(
      mknod.map((o) => o.fields),
      DEFAULT_DEVICES.map((d) => [S_IF.c | 0o666, makedev(d.major, d.minor), 0, 0, inRoot(d.path)]),
    );
    assert.deepEqual(mknod[0]!.fields.slice(0, 2), [0o020666, 259n], '/dev/null is c 1:3');
    const devMount = ops.findIndex((o) => o.op === 'MOUNT' && o.fields[2] === inRoot('/dev'));
    assert.ok(ops.indexOf(mknod[0]!) > devMount);
    assert.equal(all(ops, 'TOUCH').length, 0);
    // Standard links, and /dev/ptmx because /dev/pts is mounted.
    assert.deepEqual(all(ops, 'SYMLINK').map((o) => o.fields), [
      ['/proc/self/fd', inRoot('/dev/fd')],
      ['/proc/self/fd/0', inRoot('/dev/stdin')],
      ['/proc/self/fd/1', inRoot('/dev/stdout')],
      ['/proc/self/fd/2', inRoot('/dev/stderr')],
      ['pts/ptmx', inRoot('/dev/ptmx')],
    ]);
  });

  test('in a new user namespace: TOUCH and a bind MOUNT of the host device instead', () => {
    const ops = plan(spec(undefined, { rootless: true }));
    assert.equal(all(ops, 'MKNOD').length, 0);
    for (const d of DEFAULT_DEVICES) {
      const t = inRoot(d.path);
      const i = ops.findIndex((o) => o.op === 'TOUCH' && o.fields[1] === t);
      assert.ok(i > 0, `TOUCH ${d.path}`);
      assert.deepEqual(ops[i]!.fields, [0o644, t]);
      assert.deepEqual(ops[i + 1]!.op, 'MOUNT');
      assert.deepEqual(ops[i + 1]!.fields, [MS.BIND, d.path, t, 'bind', '']);
    }
  });

  test('spec devices are added and override the defaults of the same path', () => {
    const ops = plan(spec((x) => {
      x.linux!.devices = [
        { type: 'b', path: '/dev/sda', major: 8, minor: 1, fileMode: 0o660, uid: 0, gid: 6 },
        { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o600 },
      ];
    }));
    const mk = all(ops, 'MKNOD');
    assert.equal(mk.length, DEFAULT_DEVICES.length + 1);
    assert.deepEqual(mk.find((o) => o.fields[4] === inRoot('/dev/sda'))!.fields, [S_IF.b | 0o660, makedev(8, 1), 0, 6, inRoot('/dev/sda')]);
    const nulls = mk.filter((o) => o.fields[4] === inRoot('/dev/null'));
    assert.equal(nulls.length, 1);
    assert.equal(nulls[0]!.fields[0], S_IF.c | 0o600);
  });

  test('no devices when /dev is bind-mounted from the host', () => {
    const ops = plan(spec((x) => {
      x.mounts = x.mounts!.filter((m) => !m.destination.startsWith('/dev'));
      x.mounts.push({ destination: '/dev', type: 'bind', source: hostDir, options: ['rbind'] });
    }));
    assert.equal(all(ops, 'MKNOD').length, 0);
    assert.equal(all(ops, 'SYMLINK').length, 0);
  });

  test('no devices when /dev is bind-mounted, however the destination is spelled', () => {
    // mknod unlinks and re-creates an existing node: on a bind of the host's /dev that would
    // replace the host's device nodes.
    for (const dest of ['/dev/', '//dev', '/dev/.']) {
      const ops = plan(spec((x) => {
        x.mounts = x.mounts!.filter((m) => !m.destination.startsWith('/dev'));
        x.mounts.push({ destination: dest, type: 'bind', source: hostDir, options: ['rbind'] });
      }));
      assert.deepEqual(all(ops, 'MKNOD').map((o) => o.fields[4]), [], `destination ${JSON.stringify(dest)}`);
    }
  });
});

describe('root, paths, hostname', () => {
  test('PIVOT_ROOT, or MOVE_ROOT with noPivot', () => {
    const ops = plan(spec());
    assert.deepEqual(one(ops, 'PIVOT_ROOT').fields, [rootfs]);
    assert.equal(all(ops, 'MOVE_ROOT').length, 0);
    const moved = plan(spec(), { noPivot: true });
    assert.deepEqual(one(moved, 'MOVE_ROOT').fields, [rootfs]);
    assert.equal(all(moved, 'PIVOT_ROOT').length, 0);
    // A relative root.path is relative to the bundle; an absolute one is kept.
    const abs = plan(spec((x) => (x.root!.path = rootfs)), { bundle: '/elsewhere' });
    assert.deepEqual(one(abs, 'PIVOT_ROOT').fields, [rootfs]);
    throwsInvalid(() => plan(spec((x) => delete x.root)), /root\.path/);
  });

  test('masked and read-only paths after the pivot, in spec order', () => {
    const ops = plan(spec());
    const pivot = idx(ops, 'PIVOT_ROOT');
    assert.deepEqual(all(ops, 'MASK').map((o) => o.fields[0]), DEFAULT_MASKED_PATHS);
    assert.deepEqual(all(ops, 'READONLY').map((o) => o.fields[0]), DEFAULT_READONLY_PATHS);
    assert.ok(idx(ops, 'MASK') > pivot);
    assert.ok(idx(ops, 'READONLY') > pivot);
  });

  test('a read-only root is remounted read-only after the pivot', () => {
    const ops = plan(spec((x) => (x.root!.readonly = true)));
    const pivot = idx(ops, 'PIVOT_ROOT');
    const ro = ops.findIndex((o) => o.op === 'MOUNT' && o.fields[2] === '/' && (o.fields[0] as number) & MS.RDONLY);
    assert.ok(ro > pivot);
    assert.deepEqual(ops[ro]!.fields, [MS.BIND | MS.REMOUNT | MS.RDONLY, '', '/', '', '']);
    assert.ok(ro < idx(ops, 'EXEC'));
    const rw = plan(spec((x) => (x.root!.readonly = false)));
    assert.equal(rw.filter((o) => o.op === 'MOUNT' && (o.fields[0] as number) & MS.REMOUNT && o.fields[2] === '/').length, 0);
  });

  test('SETHOSTNAME and SETDOMAINNAME need a uts namespace, new or joined', () => {
    const ops = plan(spec((x) => (x.domainname = 'example.org')));
    assert.deepEqual(one(ops, 'SETHOSTNAME').fields, ['berth']);
    assert.deepEqual(one(ops, 'SETDOMAINNAME').fields, ['example.org']);
    assert.ok(idx(ops, 'SETHOSTNAME') > idx(ops, 'PIVOT_ROOT'));
    const noUts = (x: Spec) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'uts'));
    throwsInvalid(() => plan(spec(noUts)), /^hostname: .*uts namespace/);
    // A joined uts namespace is the container's: its hostname is set there.
    const joined = plan(spec((x) => (noUts(x), x.linux!.namespaces!.push({ type: 'uts', path: '/proc/1/ns/uts' }))));
    assert.deepEqual(one(joined, 'SETHOSTNAME').fields, ['berth']);
    throwsInvalid(() => plan(spec((x) => (noUts(x), (x.hostname = ''), (x.domainname = 'd')))), /^domainname: .*uts namespace/);
    // No hostname asked: fine without a uts namespace, and no SETHOSTNAME.
    const none = plan(spec((x) => (noUts(x), delete x.hostname)));
    assert.equal(all(none, 'SETHOSTNAME').length, 0);
    assert.equal(all(plan(spec((x) => (x.hostname = ''))), 'SETHOSTNAME').length, 0);
  });

  test('sysctls are written under /proc/sys after the pivot', () => {
    const ops = plan(spec((x) => (x.linux!.sysctl = { 'net.ipv4.ip_forward': '1' })));
    const w = all(ops, 'WRITE_FILE');
    assert.deepEqual(w.map((o) => o.fields), [['/proc/sys/net/ipv4/ip_forward', '1']]);
    assert.ok(ops.indexOf(w[0]!) > idx(ops, 'PIVOT_ROOT'));
  });

  test('the working directory is created inside the rootfs before the pivot, and entered before exec', () => {
    const ops = plan(spec((x) => (x.process!.cwd = '/srv/app')));
    const mk = ops.findIndex((o) => o.op === 'MKDIR' && o.fields[1] === inRoot('/srv/app'));
    assert.ok(mk > 0 && mk < idx(ops, 'PIVOT_ROOT'));
    assert.deepEqual(one(ops, 'CHDIR').fields, ['/srv/app']);
    assert.ok(idx(ops, 'CHDIR') > idx(ops, 'PIVOT_ROOT'));
  });
});

describe('process', () => {
  const seccomp = { program: Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 1 };

  test('rlimits and umask', () => {
    const ops = plan(spec((x) => (x.process!.user.umask = 0o077)));
    assert.deepEqual(one(ops, 'RLIMIT').fields, [7, 1024, 1024]);
    assert.deepEqual(one(ops, 'UMASK').fields, [0o077]);
    assert.deepEqual(one(plan(spec()), 'UMASK').fields, [0o022]);
  });

  test('SECCOMP before IDENTITY without no_new_privs', () => {
    const ops = plan(spec((x) => (x.process!.noNewPrivileges = false)), { seccomp, fifo: '/run/f' });
    const sc = one(ops, 'SECCOMP');
    assert.deepEqual(sc.fields, [1, seccomp.program.length, seccomp.program]);
    assert.ok(ops.indexOf(sc) < idx(ops, 'IDENTITY'));
    assert.equal(all(ops, 'NO_NEW_PRIVS').length, 0);
  });

  test('SECCOMP after NO_NEW_PRIVS and WAIT_FIFO with no_new_privs, right before EXEC', () => {
    const ops = plan(spec((x) => (x.process!.noNewPrivileges = true)), { seccomp, fifo: '/run/f' });
    const sc = idx(ops, 'SECCOMP');
    assert.ok(sc > idx(ops, 'IDENTITY'));
    assert.ok(sc > idx(ops, 'NO_NEW_PRIVS'));
    assert.ok(sc > idx(ops, 'WAIT_FIFO'));
    assert.equal(sc, ops.length - 2);
    assert.equal(all(ops, 'SECCOMP').length, 1);
    // No filter: no op.
    assert.equal(all(plan(spec()), 'SECCOMP').length, 0);
  });

  test('IDENTITY with additional groups', () => {
    const ops = plan(spec((x) => (x.process!.user = { uid: 1000, gid: 100, additionalGids: [5, 6] })));
    assert.deepEqual(one(ops, 'IDENTITY').fields, [1000, 100, 2, 5, 6]);
  });

  test('CAPS: the drop-bounding mask comes from lastCap; ambient only where inheritable and permitted', () => {
    const bit = (n: string) => 1n << BigInt(CAPABILITIES.indexOf(n));
    const ops = plan(spec((x) => {
      x.process!.capabilities = {
        bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'],
        effective: ['CAP_KILL'],
        permitted: ['CAP_KILL', 'CAP_CHOWN'],
        inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
        ambient: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'],
      };
    }), { lastCap: 40 });
    const full = (1n << 41n) - 1n;
    const bounding = bit('CAP_KILL') | bit('CAP_CHOWN') | bit('CAP_NET_RAW');
    assert.deepEqual(one(ops, 'CAPS').fields, [
      full & ~bounding,
      bit('CAP_KILL'),
      bit('CAP_KILL') | bit('CAP_CHOWN'),
      bit('CAP_KILL') | bit('CAP_NET_RAW'),
      bit('CAP_KILL'), // CHOWN is not inheritable, NET_RAW not permitted
    ]);
    // An older kernel: fewer capabilities to drop, and none above lastCap in any set.
    const old = plan(spec((x) => (x.process!.capabilities = { bounding: ['CAP_BPF'], effective: ['CAP_BPF'], permitted: ['CAP_BPF'] })), { lastCap: 37 });
    assert.deepEqual(one(old, 'CAPS').fields, [(1n << 38n) - 1n, 0n, 0n, 0n, 0n]);
    // The default spec: ambient is given but not inheritable, so no ambient capability.
    const def = one(plan(spec()), 'CAPS').fields;
    assert.equal(def[3], 0n);
    assert.equal(def[4], 0n);
    assert.ok(idx(ops, 'CAPS') > idx(ops, 'IDENTITY'));
    throwsInvalid(() => plan(spec((x) => (x.process!.capabilities = { bounding: ['CAP_NOPE'] }))), /process\.capabilities\.bounding\[0\].*CAP_NOPE/);
  });

  test('RESOLVE_EXEC uses PATH from process.env (the last one), else the default PATH', () => {
    const ops = plan(spec((x) => (x.process!.env = ['PATH=/a:/b', 'X=1', 'PATH=/custom/bin:/bin'])));
    assert.deepEqual(one(ops, 'RESOLVE_EXEC').fields, ['/custom/bin:/bin', 'sh']);
    const none = plan(spec((x) => (x.process!.env = ['HOME=/root'])));
    assert.deepEqual(one(none, 'RESOLVE_EXEC').fields, [DEFAULT_PATH, 'sh']);
    assert.ok(idx(ops, 'RESOLVE_EXEC') > idx(ops, 'CHDIR'));
  });

  test('READY, then WAIT_FIFO, then EXEC last', () => {
    const s = spec((x) => (x.process!.noNewPrivileges = false));
    const ops = plan(s, { fifo: '/run/berth/c1/exec.fifo' });
    assert.deepEqual(names(ops.slice(-3)), ['READY', 'WAIT_FIFO', 'EXEC']);
    assert.deepEqual(ops.at(-1)!.fields, [3, 2, 'sh', '-c', 'true', ...s.process!.env!]);
    assert.equal(all(ops, 'EXEC').length, 1);
    // No fifo (run): no OPEN_FIFO and no WAIT_FIFO.
    const run = plan(s);
    assert.deepEqual(names(run.slice(-2)), ['READY', 'EXEC']);
    assert.equal(all(run, 'OPEN_FIFO').length + all(run, 'WAIT_FIFO').length, 0);
    // A detached created container becomes a session leader.
    assert.equal(all(plan(s, { fifo: '/f', stay: false }), 'SETSID').length, 1);
    assert.equal(all(run, 'SETSID').length, 0);
    assert.deepEqual(one(plan(s, { preserveFds: 2 }), 'PRESERVE_FDS').fields, [2]);
  });

  test('SYNC createRuntime only when asked, between the mounts and the pivot', () => {
    assert.equal(all(plan(spec()), 'SYNC').length, 0);
    const ops = plan(spec(), { syncCreateRuntime: true });
    const sync = idx(ops, 'SYNC');
    assert.deepEqual(ops[sync]!.fields, ['createRuntime']);
    assert.ok(sync > lastIdx(ops, 'MKDIR'), 'after the working directory is made');
    assert.ok(sync > lastIdx(ops.slice(0, idx(ops, 'PIVOT_ROOT')), 'MOUNT'), 'after the mounts');
    assert.ok(sync < idx(ops, 'PIVOT_ROOT'));
  });

  test('createContainer hooks run before PIVOT_ROOT; startContainer hooks after WAIT_FIFO', () => {
    const s = spec((x) => {
      x.process!.noNewPrivileges = false;
      x.hooks = {
        createContainer: [{ path: '/usr/bin/hook', args: ['hook', 'create'], env: ['A=1'], timeout: 5 }],
        startContainer: [{ path: '/bin/start-hook' }, { path: '/bin/second', args: ['second'] }],
        prestart: [{ path: '/not/in/plan' }],
        poststart: [{ path: '/not/in/plan' }],
      };
    });
    const ops = plan(s, { fifo: '/run/f', syncCreateRuntime: true });
    const hooks = all(ops, 'RUN_HOOK');
    assert.equal(hooks.length, 3);
    assert.deepEqual(hooks[0]!.fields, [5, 2, 1, '/usr/bin/hook', 'hook', 'create', 'A=1', HOOK_STATE]);
    assert.deepEqual(hooks[1]!.fields, [0, 1, 0, '/bin/start-hook', '/bin/start-hook', HOOK_STATE]);
    assert.deepEqual(hooks[2]!.fields, [0, 1, 0, '/bin/second', 'second', HOOK_STATE]);
    const create = ops.indexOf(hooks[0]!);
    assert.ok(create > idx(ops, 'SYNC'), 'createContainer hooks after createRuntime');
    assert.ok(create < idx(ops, 'PIVOT_ROOT'));
    const start = ops.indexOf(hooks[1]!);
    assert.ok(start > idx(ops, 'WAIT_FIFO'));
    assert.equal(ops.indexOf(hooks[2]!), start + 1);
    assert.deepEqual(names(ops.slice(-4)), ['WAIT_FIFO', 'RUN_HOOK', 'RUN_HOOK', 'EXEC']);
    assert.ok(!ops.some((o) => o.fields.includes('/not/in/plan')));
  });

  test('a process is required', () => {
    throwsInvalid(() => plan(spec((x) => delete x.process)), /^process:/);
  });

  test('a terminal: CONSOLE_SETUP after the pivot with the console size and user', () => {
    const s = spec((x) => {
      x.process!.consoleSize = { height: 24, width: 80 };
      x.process!.user = { uid: 1000, gid: 1000 };
    }, { terminal: true });
    const ops = plan(s, { consoleSocket: '/tmp/c.sock' });
    assert.deepEqual(one(ops, 'CONSOLE_SETUP').fields, [24, 80, 1000, 1000]);
    assert.ok(idx(ops, 'CONSOLE_SETUP') > idx(ops, 'PIVOT_ROOT'));
    assert.equal(all(plan(spec()), 'CONSOLE_SETUP').length, 0);
  });
});

describe('compileExecPlan', () => {
  function exec(over: Partial<ExecPlanInput> = {}): PlanOp[] {
    const s = spec((x) => (x.process!.args = ['ps', 'aux']));
    const ops = compileExecPlan({
      spec: s,
      namespaces: [
        ['user', '/proc/42/ns/user'],
        ['mount', '/proc/42/ns/mnt'],
        ['pid', '/proc/42/ns/pid'],
      ],
      cgroups: { tasks: ['/sys/fs/cgroup/pids/berth/c1/tasks'], into: '/sys/fs/cgroup/unified/berth/c1' },
      stay: true,
      lastCap: 40,
      ...over,
    });
    encodePlan(ops);
    return ops;
  }

  test('CGROUP_TASKS, CGROUP_INTO and SETNS before CLONE(0); no mounts', () => {
    const ops = exec();
    assert.deepEqual(names(ops.slice(0, 6)), ['CGROUP_TASKS', 'CGROUP_INTO', 'SETNS', 'SETNS', 'SETNS', 'CLONE']);
    assert.deepEqual(ops[2]!.fields, [CLONE_NEW.user, '/proc/42/ns/user']);
    assert.deepEqual(ops[3]!.fields, [CLONE_NEW.mount, '/proc/42/ns/mnt']);
    // No cgroup namespace joined: cloned into the cgroup2 directory; joining one, the pid is written.
    assert.deepEqual(ops[1]!.fields, [1, '/sys/fs/cgroup/unified/berth/c1']);
    const withCgroupNs = exec({ namespaces: [['cgroup', '/proc/42/ns/cgroup']] });
    assert.deepEqual(one(withCgroupNs, 'CGROUP_INTO').fields, [0, '/sys/fs/cgroup/unified/berth/c1']);
    assert.deepEqual(one(ops, 'CLONE').fields, [0, 0, '', '']);
    for (const op of ['MOUNT', 'MKDIR', 'MKNOD', 'TOUCH', 'SYMLINK', 'PIVOT_ROOT', 'MOVE_ROOT', 'MASK', 'READONLY', 'SETHOSTNAME', 'OPEN_FIFO', 'WAIT_FIFO'] as OpName[]) {
      assert.equal(all(ops, op).length, 0, `no ${op} in an exec plan`);
    }
    assert.deepEqual(names(ops.slice(-2)), ['READY', 'EXEC']);
    assert.deepEqual(one(ops, 'RESOLVE_EXEC').fields[1], 'ps');
    assert.deepEqual(one(exec({ stay: false }), 'CLONE').fields, [0, 1, '', '']);
  });

  test('a terminal: CONSOLE_CONNECT before the clone, CONSOLE_SETUP after', () => {
    const s = spec((x) => (x.process!.args = ['sh']), { terminal: true });
    assert.throws(() => exec({ spec: s }), /console-socket/);
    const ops = exec({ spec: s, consoleSocket: '/tmp/c.sock' });
    assert.ok(idx(ops, 'CONSOLE_CONNECT') < idx(ops, 'CLONE'));
    assert.ok(idx(ops, 'CONSOLE_SETUP') > idx(ops, 'CLONE'));
  });
});
