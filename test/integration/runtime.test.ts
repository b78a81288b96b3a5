/**
 * The OCI runtime against the real kernel: containers from a busybox bundle, observed from outside
 * (/proc, cgroup files) and inside (busybox).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, describe, it } from 'node:test';
import { detectCgroups } from '../../src/runtime/cgroups/index.js';
import { TestRuntime, bundle, cleanupTmp, isRoot, readProc, statusField, uniqueId, waitFor } from '../helpers.js';

const skip = !isRoot ? 'needs root' : false;
const layout = isRoot ? detectCgroups() : undefined;

function cgroupFile(controller: string, path: string, file: string): string {
  const mp = layout!.v1[controller] ?? layout!.unified!;
  return join(mp, path, file);
}

describe('runtime: containers on the real kernel', { skip }, () => {
  const t = new TestRuntime();
  afterEach(() => t.cleanup());
  after(() => cleanupTmp());

  it('runs a process and passes its output and exit code', async () => {
    const r = await t.run(bundle(['sh', '-c', 'echo hello; exit 42']));
    assert.equal(r.output, 'hello\n');
    assert.equal(r.code, 42);
  });

  it('gives the process PID 1 inside and a different PID outside', async () => {
    const r = await t.run(bundle(['sh', '-c', 'echo $$']));
    assert.equal(r.output.trim(), '1');
    const { pid } = await t.start(bundle(['sleep', '30']));
    assert.notEqual(pid, 1);
    const nspid = statusField(pid, 'NSpid').split(/\s+/);
    assert.deepEqual(nspid, [String(pid), '1']);
    assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync('/proc/self/ns/pid'));
  });

  it('sets its own hostname and domainname', async () => {
    const r = await t.run(bundle(['sh', '-c', 'hostname; cat /proc/sys/kernel/domainname'], (s) => {
      s.hostname = 'box-one';
      s.domainname = 'example.test';
    }));
    assert.equal(r.output, 'box-one\nexample.test\n');
  });

  it('has a network namespace with only lo', async () => {
    const r = await t.run(bundle(['ls', '/sys/class/net']));
    assert.equal(r.output.trim(), 'lo');
    const { pid } = await t.start(bundle(['sleep', '30']));
    assert.notEqual(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
  });

  it('OOM-kills a process allocating past a 64 MiB limit and reports it', async () => {
    const b = bundle(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 } };
    });
    const r = await t.run(b);
    assert.equal(r.signal, 9, `expected SIGKILL, got ${JSON.stringify(r)}`);
    assert.equal(r.code, 137);
    assert.equal(r.oomKilled, true);
  });

  it('stops a fork loop at the pids limit', async () => {
    const b = bundle(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 1 & done; wait'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
    });
    const r = await t.run(b);
    assert.match(r.output, /can't fork|Resource temporarily unavailable/);
  });

  it('enforces the pids limit as seen from outside', async () => {
    // The forks run in a subshell: a failed fork ends that shell, not the container's init.
    const b = bundle(['sh', '-c', '(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 30 & done) 2>/dev/null; sleep 30'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 8 } };
      s.linux!.cgroupsPath = `/berth-test/${uniqueId('pids')}`;
    });
    const { id } = await t.start(b);
    const path = t.rt.store.read(id).cgroupPath;
    assert.equal(readFileSync(cgroupFile('pids', path, 'pids.max'), 'utf8').trim(), '8');
    // 12 sleeps were asked for: the kernel refused the forks past the limit and counted them.
    const events = cgroupFile('pids', path, 'pids.events');
    await waitFor('refused forks in pids.events', () => /max [1-9]/.test(readFileSync(events, 'utf8')));
    assert.match(readFileSync(events, 'utf8'), /max [1-9]/);
    const current = Number(readFileSync(cgroupFile('pids', path, 'pids.current'), 'utf8'));
    assert.ok(current >= 6 && current <= 8, `pids.current ${current}`);
    const listed = t.rt.ps(id).length;
    assert.ok(listed >= 6 && listed <= 8, `cgroup.procs lists ${listed}`);
  });

  it('throttles with a cpu quota (nr_throttled grows)', async () => {
    const b = bundle(['sh', '-c', 'while :; do :; done'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, cpu: { quota: 10000, period: 100000 } };
    });
    const { id } = await t.start(b);
    const path = t.rt.store.read(id).cgroupPath;
    assert.equal(readFileSync(cgroupFile('cpu', path, 'cpu.cfs_quota_us'), 'utf8').trim(), '10000');
    // Throttled sooner or later however loaded the machine is (the deadline only bounds a hang).
    const stat = () => readFileSync(cgroupFile('cpu', path, 'cpu.stat'), 'utf8');
    await waitFor('nr_throttled to grow', () => Number(/nr_throttled (\d+)/.exec(stat())?.[1]) > 0);
    assert.ok(Number(/nr_throttled (\d+)/.exec(stat())?.[1]) > 0, `cpu.stat: ${stat()}`);
  });

  it('gives the process exactly the capabilities of the spec', async () => {
    const caps = ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'];
    const b = bundle(['sleep', '30'], (s) => {
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
    });
    const { pid } = await t.start(b);
    const want = ((1n << 5n) | (1n << 10n) | (1n << 21n)).toString(16).padStart(16, '0');
    assert.equal(statusField(pid, 'CapEff'), want);
    assert.equal(statusField(pid, 'CapPrm'), want);
    assert.equal(statusField(pid, 'CapBnd'), want);
    assert.equal(statusField(pid, 'CapInh'), '0000000000000000');
    assert.equal(statusField(pid, 'NoNewPrivs'), '1');
  });

  it('makes a syscall fail with the errno a seccomp rule chose', async () => {
    const b = bundle(['sh', '-c', 'mkdir /tmp/x; echo rc=$?; ls -d /tmp'], (s) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 }],
      };
    });
    const r = await t.run(b);
    assert.match(r.output, /Not supported|Operation not supported/);
    assert.match(r.output, /rc=1/);
    assert.match(r.output, /\/tmp/);
  });

  it('refuses writes to a read-only rootfs', async () => {
    const b = bundle(['sh', '-c', 'touch /newfile; echo rc=$?; echo ok > /dev/shm/x && cat /dev/shm/x'], (s) => {
      s.root!.readonly = true;
    });
    const r = await t.run(b);
    assert.match(r.output, /Read-only file system/);
    assert.match(r.output, /rc=1\nok\n/);
    assert.equal(existsSync(join(b.rootfs, 'newfile')), false);
  });

  it('reads masked paths as empty and keeps read-only paths read-only', async () => {
    const b = bundle(['sh', '-c', 'wc -c < /proc/cpuinfo; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname; echo rc=$?'], (s) => {
      s.linux!.maskedPaths = ['/proc/cpuinfo', '/sys/firmware'];
      s.linux!.readonlyPaths = ['/proc/sys'];
    });
    const r = await t.run(b);
    const lines = r.output.trim().split('\n');
    assert.equal(lines[0]!.trim(), '0');
    assert.equal(lines[1]!.trim(), '0');
    assert.match(r.output, /rc=1/);
  });

  it('maps uid 0 inside to an unprivileged uid outside under a user namespace', async () => {
    const b = bundle(['sh', '-c', 'id -u; sleep 30'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.mounts = s.mounts!.filter((m) => ['/proc', '/dev', '/dev/pts', '/dev/shm'].includes(m.destination));
    });
    chmodSync(b.dir, 0o755); // the user namespace's root is host uid 200000: it must reach the rootfs
    const { id, pid } = await t.start(b);
    const out = join(b.dir, `out-${id}.txt`);
    await waitFor('the output of id -u', () => readFileSync(out, 'utf8').endsWith('\n'));
    assert.equal(readFileSync(out, 'utf8').trim(), '0');
    assert.equal(statusField(pid, 'Uid').split(/\s+/)[0], '200000');
    assert.equal(statusField(pid, 'Gid').split(/\s+/)[0], '200000');
    assert.match(readProc(pid, 'uid_map'), /^\s*0\s+200000\s+65536/);
  });

  it('propagates signals and reports them', async () => {
    const b = bundle(['sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo up; while :; do sleep 0.05; done']);
    let pid = 0;
    const id = uniqueId();
    const run = t.run(b, id, (p) => (pid = p));
    await waitFor('the container to start', () => pid !== 0);
    // "up" is printed after the trap is set: from then on TERM is handled (waited for, not timed).
    await waitFor('"up" from the container', () => readFileSync(join(b.dir, `out-${id}.txt`), 'utf8').includes('up\n'));
    process.kill(pid, 'SIGTERM');
    const r = await run;
    assert.equal(r.code, 3);
    assert.match(r.output, /got TERM/);

    let pid2 = 0;
    const run2 = t.run(bundle(['sleep', '30']), uniqueId(), (p) => (pid2 = p));
    await waitFor('the second container to start', () => pid2 !== 0);
    process.kill(pid2, 'SIGKILL');
    const r2 = await run2;
    assert.equal(r2.signal, 9);
    assert.equal(r2.code, 137);
    assert.equal(r2.oomKilled, false);
  });

  it("joins another container's namespaces by path", async () => {
    const a = await t.start(bundle(['sleep', '30'], (s) => (s.hostname = 'first-box')));
    const b = bundle(['sh', '-c', 'hostname; ls /sys/class/net'], (s) => {
      s.hostname = undefined;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === 'network' || n.type === 'uts' || n.type === 'ipc' ? { type: n.type, path: `/proc/${a.pid}/ns/${n.type === 'network' ? 'net' : n.type}` } : n,
      );
      s.mounts = s.mounts!.filter((m) => m.destination !== '/sys' && m.destination !== '/sys/fs/cgroup');
    });
    const second = await t.start(bundle(['sleep', '30'], (s) => {
      s.hostname = undefined;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${a.pid}/ns/net` } : n));
    }));
    assert.equal(readlinkSync(`/proc/${second.pid}/ns/net`), readlinkSync(`/proc/${a.pid}/ns/net`));
    assert.notEqual(readlinkSync(`/proc/${second.pid}/ns/mnt`), readlinkSync(`/proc/${a.pid}/ns/mnt`));
    const r = await t.run(b);
    assert.equal(r.output.split('\n')[0], 'first-box');
  });

  it('follows the lifecycle: creating → created → running → stopped, and survives its caller', async () => {
    const b = bundle(['sh', '-c', 'sleep 0.3; true']);
    const id = uniqueId();
    await t.rt.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    const created = t.rt.state(id);
    assert.equal(created.status, 'created');
    assert.ok(created.pid! > 1);
    // The created process waits: it has not run `sh` yet.
    await sleep(100); // a window for a wrong start to show; the check holds for any length
    assert.equal(t.rt.state(id).status, 'created');
    await t.rt.start(id);
    assert.equal(t.rt.state(id).status, 'running');
    assert.match(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8'), /^sh\0-c/);
    await waitFor('the container to stop', () => t.rt.state(id).status === 'stopped');
    assert.equal(t.rt.state(id).status, 'stopped');
    const path = t.rt.store.read(id).cgroupPath;
    await t.rt.delete(id);
    assert.throws(() => t.rt.state(id), /does not exist/);
    assert.equal(existsSync(cgroupFile('memory', path, '')), false);
  });

  it('executes a process inside a running container', async () => {
    const { id, pid } = await t.start(bundle(['sleep', '30']));
    const proc = { ...t.rt.store.read(id).spec.process!, args: ['sh', '-c', 'echo $$; hostname; exit 7'] };
    const out = join(t.root, 'exec-out');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(out, 'w');
    const r = await t.rt.exec(id, { process: proc, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    assert.equal(r.code, 7);
    const [innerPid, host] = readFileSync(out, 'utf8').trim().split('\n');
    assert.ok(Number(innerPid) > 1);
    assert.equal(host, 'berth-test');
    assert.ok(pid > 0);
  });

  it("puts the process, and a process executed in it, in the container's cgroup in every hierarchy, seen from outside", async () => {
    const { id, pid } = await t.start(bundle(['sleep', '30']));
    const path = t.rt.store.read(id).cgroupPath;
    // "N:controllers:path" lines of /proc/PID/cgroup for the hierarchies berth manages.
    const membership = (p: number) =>
      readFileSync(`/proc/${p}/cgroup`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => /^\d+:([^:]*):(.*)$/.exec(l)!)
        .filter((m) => (m[1] === '' ? layout!.unified !== undefined && layout!.mode !== 'v1' : m[1]!.split(',').some((c) => layout!.v1[c] !== undefined)))
        .map((m) => `${m[1]}:${m[2]}`);
    const expected = membership(pid).map((l) => `${l.slice(0, l.indexOf(':'))}:${path}`);
    assert.ok(expected.length >= 1);
    assert.deepEqual(membership(pid), expected);
    // The helper that started it stays where it was; so does this process.
    assert.ok(!membership(process.pid).includes(expected[0]!));
    // A process executed in the container (it joins the container's cgroup namespace, so its
    // pid is written to the cgroup2 directory rather than cloned into it) lands there too.
    const proc = { ...t.rt.store.read(id).spec.process!, args: ['sleep', '30'] };
    const r = await t.rt.exec(id, { process: proc, detach: true, stdio: ['ignore', 'ignore', 'ignore'] });
    assert.ok(r.pid > 0 && r.pid !== pid);
    assert.deepEqual(membership(r.pid), expected);
  });

  it('keeps compiled seccomp programs under its root and ignores a cached file of another profile', async () => {
    const profile = (errno: number) => (s: import('../../src/oci/runtime-spec.js').Spec) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: errno }] };
    };
    const cacheDir = join(t.rt.store.root, '.seccomp');
    const script = ['sh', '-c', 'mkdir /tmp/x; echo rc=$?'];
    const first = await t.run(bundle(script, profile(95)));
    assert.match(first.output, /Not supported|Operation not supported/);
    const files = readdirSync(cacheDir);
    assert.equal(files.length, 1);
    // Another profile's program under this profile's file name: the key inside does not match.
    const other = readFileSync(join(cacheDir, files[0]!));
    await t.run(bundle(script, profile(13)));
    const files2 = readdirSync(cacheDir).sort();
    assert.equal(files2.length, 2);
    for (const f of files2) writeFileSync(join(cacheDir, f), other);
    const third = await t.run(bundle(script, profile(13)));
    assert.match(third.output, /Permission denied/);
    assert.doesNotMatch(third.output, /Not supported/);
  });

  it('runs hooks with the state on stdin', async () => {
    const b = bundle(['true']);
    const log = join(b.dir, 'hooks.log');
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat >> ${log}; echo " ${name}" >> ${log}`] });
    b.spec.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
    b.write();
    const r = await t.run(b);
    assert.equal(r.code, 0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ').pop()), ['prestart', 'createRuntime', 'poststart', 'poststop']);
    const states = lines.map((l) => JSON.parse(l.slice(0, l.lastIndexOf(' '))));
    // prestart gets "created", as runc and crun give it; createRuntime "creating"; poststart
    // "running" with the pid; poststop "stopped".
    assert.deepEqual(states.map((st) => st.status), ['created', 'creating', 'running', 'stopped']);
    assert.ok(states[0].pid > 0);
    assert.equal(states[2].pid, states[0].pid);
  });

  it('writes sysctls and rlimits', async () => {
    const b = bundle(['sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward; ulimit -n'], (s) => {
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
    });
    const r = await t.run(b);
    assert.equal(r.output, '1\n321\n');
  });

  it('writes the pid file and keeps the state readable by a new Runtime', async () => {
    const b = bundle(['sleep', '30']);
    const id = uniqueId();
    const pidFile = join(b.dir, 'pid');
    await t.rt.create(id, { bundle: b.dir, pidFile, stdio: ['ignore', 'ignore', 'ignore'] });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const { Runtime } = await import('../../src/runtime/index.js');
    const other = new Runtime({ root: t.root });
    assert.equal(other.state(id).pid, pid);
    assert.equal(other.state(id).status, 'created');
    writeFileSync(join(b.dir, 'touched'), '');
  });
});
