/**
 * run/create flags → ContainerCreateRequest → the engine's create options (containers/request.ts)
 * → what the container gets (its record's restart policy and health check, its OCI spec): one case
 * (at least) per run option, and Docker's defaults when none is given. container-request.test.ts
 * checks the first step alone; this one the whole path into the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { containerFlags, containerRequestFromFlags, type ContainerFlags } from './container-request.js';
import { buildSpec, DOCKER_DEFAULT_CAPS } from '../engine/container-spec.js';
import { healthcheckOf } from '../engine/containers/health.js';
import { createOptionsOf } from '../engine/containers/request.js';
import { restartPolicyOf } from '../engine/containers/restart.js';
import type { CreateOptions } from '../engine/containers/types.js';
import type { Spec } from '../oci/runtime-spec.js';
import { isBerthError } from '../lib/errors.js';

const ENV: Record<string, string> = { SET_HERE: 'yes' };
const ID = 'c0ffee'.padEnd(64, '0');

/** argv as `berth run ARGV` parses it → the request → create's options. */
function options(args: string[]): CreateOptions {
  let out: CreateOptions | undefined;
  const cmd = containerFlags(new Command('run').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  cmd.option('-d, --detach', 'run in the background');
  cmd.action((image: string, command: string[], o: ContainerFlags) => {
    out = createOptionsOf(containerRequestFromFlags(image, command, o, (n) => ENV[n]));
  });
  cmd.parse([...args, ...(args.includes('busybox') ? [] : ['busybox', 'true'])], { from: 'user' });
  return out!;
}

/** The OCI spec of a container made with these flags (on no network unless one is given). */
function spec(args: string[], config: Record<string, unknown> = {}): Spec {
  const o = options(args.includes('--network') ? args : ['--network', 'none', ...args]);
  return buildSpec({ ...o, netnsPath: o.network === 'none' ? undefined : '/proc/self/ns/net' }, { config }, ID, () => 4242).spec;
}

function refused(args: string[], message: string | RegExp, build: (a: string[]) => unknown = spec) {
  assert.throws(() => build(args), (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), `${args.join(' ')}: ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message, args.join(' '));
    else assert.match(e.message, message, args.join(' '));
    return true;
  });
}

test("no flags: Docker's defaults all the way into the spec", () => {
  const o = options([]);
  assert.equal(o.image, 'busybox');
  assert.deepEqual(o.command, ['true']);
  assert.equal(o.network, 'bridge', 'NetworkMode "default" is the bridge');
  assert.deepEqual(restartPolicyOf(o.restart), { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(healthcheckOf(o.health, undefined), undefined);
  assert.deepEqual([o.autoRemove, o.tty, o.interactive, o.privileged, o.readOnly, o.withInit, o.publishAll], [false, false, false, false, false, false, false]);
  assert.deepEqual([o.volumes, o.tmpfs, o.ports], [[], {}, []]);
  for (const k of ['memory', 'memorySwap', 'nanoCpus', 'cpuShares', 'pidsLimit', 'blkioWeight', 'ulimits', 'devices', 'env', 'entrypoint', 'labels', 'ip', 'link'] as const) assert.equal(o[k], undefined, k);
  const s = spec([]);
  assert.deepEqual(s.linux!.resources, { devices: [{ allow: false, access: 'rwm' }] }, 'no limits (MemorySwappiness -1 leaves the host\'s)');
  assert.deepEqual(s.process!.capabilities!.bounding, DOCKER_DEFAULT_CAPS);
  assert.ok(s.linux!.seccomp, "Docker's default seccomp profile");
  assert.equal(s.process!.noNewPrivileges, false);
  assert.equal(s.process!.rlimits, undefined);
  assert.equal(s.root!.readonly, false);
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.deepEqual(s.process!.user, { uid: 0, gid: 0 });
  assert.equal(s.process!.cwd, '/');
  assert.deepEqual(s.process!.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`]);
});

test('-m, --memory-swap: bytes into the memory cgroup (-1: unlimited swap)', () => {
  assert.deepEqual([options(['-m', '64m', '--memory-swap', '128m']).memory, options(['-m', '64m', '--memory-swap', '128m']).memorySwap], [64 << 20, 128 << 20]);
  assert.deepEqual(spec(['-m', '64m', '--memory-swap', '128m']).linux!.resources!.memory, { limit: 64 << 20, swap: 128 << 20 });
  assert.deepEqual(spec(['-m', '1g', '--memory-swap', '-1']).linux!.resources!.memory, { limit: 1 << 30, swap: -1 });
  refused(['--memory-swap', '1m', '-m', '64m'], 'Minimum memoryswap limit should be larger than memory limit, see usage');
  refused(['--memory-swap', '1g'], '--memory-swap needs --memory');
});

test('--cpus as NanoCpus, a quota of a 100 ms period; --cpu-shares, --cpuset-cpus', () => {
  assert.equal(options(['--cpus', '1.5']).nanoCpus, 1.5e9);
  assert.deepEqual(spec(['--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0-1']).linux!.resources!.cpu, { quota: 150000, period: 100000, shares: 512, cpus: '0-1' });
  assert.deepEqual(spec(['--cpus', '0.25']).linux!.resources!.cpu, { quota: 25000, period: 100000 });
});

test('--pids-limit into the pids cgroup', () => {
  assert.deepEqual(spec(['--pids-limit', '50']).linux!.resources!.pids, { limit: 50 });
  assert.deepEqual(spec(['--pids-limit', '-1']).linux!.resources!.pids, { limit: -1 });
});

test('--ulimit: rlimits (-1 unlimited), one per name', () => {
  assert.deepEqual(spec(['--ulimit', 'nofile=100:200', '--ulimit', 'nproc=-1', '--ulimit', 'nofile=50']).process!.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 50, hard: 50 },
    { type: 'RLIMIT_NPROC', soft: 2 ** 64 - 1, hard: 2 ** 64 - 1 },
  ]);
});

test('--device: a device node and its cgroup rule (a second field that is a mode is the permissions)', () => {
  const s = spec(['--device', '/dev/null:/dev/mynull:rw']);
  assert.deepEqual(s.linux!.devices, [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
  assert.deepEqual(s.linux!.resources!.devices!.at(-1), { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' });
  const m = spec(['--device', '/dev/null:r']);
  assert.equal(m.linux!.devices![0]!.path, '/dev/null');
  assert.equal(m.linux!.resources!.devices!.at(-1)!.access, 'r');
  refused(['--device', '/dev/nosuch'], /error gathering device information .*"\/dev\/nosuch"/);
});

test('--blkio-weight and --device-{read,write}-{bps,iops}: the blkio cgroup', () => {
  assert.deepEqual(spec(['--blkio-weight', '300', '--device-read-bps', '/dev/null:1mb', '--device-write-bps', '/dev/zero:2k', '--device-read-iops', '/dev/null:100', '--device-write-iops', '/dev/zero:7']).linux!.resources!.blockIO, {
    weight: 300,
    throttleReadBpsDevice: [{ major: 1, minor: 3, rate: 1 << 20 }],
    throttleWriteBpsDevice: [{ major: 1, minor: 5, rate: 2048 }],
    throttleReadIOPSDevice: [{ major: 1, minor: 3, rate: 100 }],
    throttleWriteIOPSDevice: [{ major: 1, minor: 5, rate: 7 }],
  });
  refused(['--blkio-weight', '5'], 'invalid --blkio-weight 5: range is from 10 to 1000');
});

test('-e, --env-file: over the image\'s environment; a bare name unset here removes it (as Docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-envfile-'));
  try {
    writeFileSync(join(dir, 'env'), '# a comment\n  FROM_FILE=left-trimmed only  \nA=from-file\n');
    const image = { Env: ['PATH=/bin', 'A=image', 'UNSET_HERE=image', 'KEPT=image'] };
    // Docker's order: PATH and HOSTNAME, then Config.Env: the user's variables (a name given
    // twice once, its last value), then the image's the user did not name.
    assert.deepEqual(spec(['--env-file', join(dir, 'env'), '-e', 'A=1', '-e', 'SET_HERE', '-e', 'UNSET_HERE', '-e', 'NEW=x=y'], image).process!.env, [
      'PATH=/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'FROM_FILE=left-trimmed only  ', 'A=1', 'SET_HERE=yes', 'NEW=x=y', 'KEPT=image',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-t: a terminal (TERM=xterm is added at create); -i: stdin kept open', () => {
  assert.deepEqual([options(['-t']).tty, options(['-t']).interactive], [true, false]);
  assert.deepEqual([options(['-i']).tty, options(['-i']).interactive], [false, true]);
  assert.deepEqual([options(['-d', '-it']).tty, options(['-d', '-it']).interactive], [true, true]);
});

test('-w, -u, -h: cwd, user, hostname (and HOSTNAME)', () => {
  const s = spec(['-w', '/srv', '-u', '1000:50', '-h', 'boxy']);
  assert.equal(s.process!.cwd, '/srv');
  assert.deepEqual(s.process!.user, { uid: 1000, gid: 50 });
  assert.equal(s.hostname, 'boxy');
  assert.ok(s.process!.env!.includes('HOSTNAME=boxy'));
  assert.equal(options(['-u', 'app']).user, 'app', 'a name is looked up in the image at create');
});

test('image and command, --entrypoint ("" drops the image\'s, and its Cmd with it)', () => {
  const image = { Entrypoint: ['/init'], Cmd: ['serve'] };
  assert.deepEqual(spec(['busybox'], image).process!.args, ['/init', 'serve']);
  assert.deepEqual(spec(['busybox', 'sh', '-c', 'x'], image).process!.args, ['/init', 'sh', '-c', 'x']);
  assert.deepEqual(spec(['--entrypoint', '/bin/env', 'busybox'], image).process!.args, ['/bin/env']);
  assert.deepEqual(spec(['--entrypoint', '', 'busybox', 'ls', '/'], image).process!.args, ['ls', '/']);
  refused(['--entrypoint', '', 'busybox'], 'No command specified', (a) => spec(a, image));
});

test('-l: labels over the image\'s (annotations of the spec)', () => {
  assert.deepEqual(spec(['-l', 'a=b', '-l', 'c', '-l', 'img=over'], { Labels: { img: 'label', keep: '1' } }).annotations, { img: 'over', keep: '1', a: 'b', c: '' });
});

test('-v, --mount: the volume specs create resolves (binds, named and anonymous volumes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bind-'));
  try {
    const o = options(['-v', `${dir}:/h:ro`, '-v', 'named:/n', '-v', '/anon', '--mount', `type=bind,source=${dir},target=/m,readonly`, '--mount', 'type=volume,source=mv,target=/mv,volume-nocopy', '--mount', 'type=volume,target=/ma']);
    assert.deepEqual(o.volumes, [
      { kind: 'bind', source: dir, destination: '/h', readOnly: true, propagation: [], mode: 'ro' },
      { kind: 'volume', source: 'named', destination: '/n', readOnly: false, propagation: [], mode: '' },
      { kind: 'volume', source: undefined, destination: '/anon', readOnly: false, propagation: [], mode: '' },
      { kind: 'bind', source: dir, destination: '/m', readOnly: true, propagation: [], mode: '' },
      { kind: 'volume', source: 'mv', destination: '/mv', readOnly: false, propagation: [], mode: 'z', noCopy: true },
      { kind: 'volume', source: undefined, destination: '/ma', readOnly: false, propagation: [], mode: 'z' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A -v bind's missing source is made at create (as dockerd); a --mount bind's is refused.
  assert.equal(options(['-v', '/no/such/dir:/x']).volumes?.[0]?.source, '/no/such/dir');
  refused(['--mount', 'type=bind,source=/no/such/dir,target=/x'], 'invalid mount config for type "bind": bind source path does not exist: /no/such/dir', options);
  refused(['-v', 'bad*name:/x'], /invalid characters for a local volume name/, options);
  refused(['-v', '/a:relative'], /invalid mode: relative/, options);
  assert.deepEqual(options(['--volumes-from', 'db:ro']).volumesFrom, ['db:ro']);
});

test('--tmpfs and tmpfs --mounts: tmpfs mounts with their options', () => {
  const s = spec(['--tmpfs', '/run', '--tmpfs', '/c:size=1m,mode=1777', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770,readonly']);
  const tmpfs = (dst: string) => s.mounts!.find((m) => m.destination === dst);
  assert.deepEqual(tmpfs('/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec'] });
  assert.deepEqual(tmpfs('/c')!.options, ['nosuid', 'nodev', 'noexec', 'size=1m', 'mode=1777']);
  assert.deepEqual(tmpfs('/t')!.options, ['nosuid', 'nodev', 'noexec', `size=${1 << 20}`, 'mode=1770', 'ro']);
});

test('--cap-add, --cap-drop, --privileged: the capability sets', () => {
  assert.deepEqual(spec(['--cap-drop', 'ALL', '--cap-add', 'net_admin']).process!.capabilities!.effective, ['CAP_NET_ADMIN']);
  assert.deepEqual(spec(['--cap-drop', 'chown']).process!.capabilities!.bounding, DOCKER_DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN'));
  const p = spec(['--privileged']);
  assert.ok(p.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
  assert.equal(p.linux!.seccomp, undefined);
  assert.deepEqual(p.linux!.maskedPaths, []);
  refused(['--cap-add', 'NOT_A_CAP'], 'unknown capability: "NOT_A_CAP"');
});

test('--security-opt: no-new-privileges; a seccomp profile sent inline; unconfined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
  try {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
    writeFileSync(join(dir, 'p.json'), JSON.stringify(profile, null, 2));
    const o = options(['--security-opt', `seccomp=${join(dir, 'p.json')}`]);
    assert.deepEqual(o.securityOpt, [`seccomp=${JSON.stringify(profile)}`], 'read by the CLI, sent inline');
    assert.deepEqual(spec(['--security-opt', `seccomp=${join(dir, 'p.json')}`]).linux!.seccomp, profile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(spec(['--security-opt', 'seccomp=unconfined']).linux!.seccomp, undefined);
  assert.equal(spec(['--security-opt', 'no-new-privileges']).process!.noNewPrivileges, true);
  refused(['--security-opt', 'apparmor=x'], /^invalid --security-opt "apparmor=x"/);
});

test('--stop-signal, --stop-timeout (0 is a value)', () => {
  const o = options(['--stop-signal', 'SIGUSR1', '--stop-timeout', '0']);
  assert.deepEqual([o.stopSignal, o.stopTimeout], ['SIGUSR1', 0]);
});

test('--network and its endpoint: --ip, --network-alias, --mac-address, --link', () => {
  const o = options(['--network', 'backend', '--ip', '10.5.0.9', '--network-alias', 'db', '--mac-address', '92:d0:c6:0a:29:33', '--link', 'web:w']);
  assert.deepEqual([o.network, o.ip, o.networkAlias, o.macAddress, o.link], ['backend', '10.5.0.9', ['db'], '92:d0:c6:0a:29:33', ['web:w']]);
  const d = options(['--link', 'web', '--mac-address', '92:d0:c6:0a:29:34']);
  assert.deepEqual([d.network, d.link, d.macAddress], ['bridge', ['web'], '92:d0:c6:0a:29:34'], 'legacy links on the default bridge');
  assert.equal(options(['--network', 'host']).network, 'host');
  const ns = spec(['--network', 'container:db']).linux!.namespaces!;
  assert.deepEqual(ns.find((n) => n.type === 'network'), { type: 'network', path: '/proc/4242/ns/net' });
});

test('-p, -P: the port mappings asked (a host range: its first port), and every exposed one', () => {
  const o = options(['-p', '8080:80', '-p', '127.0.0.1::53/udp', '-p', '9000-9001:90-91', '-p', '0.0.0.0:8000-8010:81', '-p', '7000']);
  assert.deepEqual(o.ports, [
    { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, proto: 'udp' },
    { hostIp: '', hostPort: 9000, containerPort: 90, proto: 'tcp' },
    { hostIp: '', hostPort: 9001, containerPort: 91, proto: 'tcp' },
    { hostIp: '', hostPort: 8000, containerPort: 81, proto: 'tcp' },
    { hostIp: '', hostPort: 0, containerPort: 7000, proto: 'tcp' },
  ]);
  assert.deepEqual(o.exposed, ['80/tcp', '53/udp', '90/tcp', '91/tcp', '81/tcp', '7000/tcp']);
  assert.equal(options(['-P']).publishAll, true);
});

test('--dns, --dns-search, --dns-option, --add-host (name=ip as name:ip)', () => {
  const o = options(['--dns', '10.9.9.9', '--dns-search', 'corp.test', '--dns-option', 'ndots:3', '--add-host', 'db.test=10.1.1.1', '--add-host', 'gw:host-gateway']);
  assert.deepEqual([o.dns, o.dnsSearch, o.dnsOption, o.addHost], [['10.9.9.9'], ['corp.test'], ['ndots:3'], ['db.test:10.1.1.1', 'gw:host-gateway']]);
});

test('--pid, --ipc, --uts: namespaces shared with the host or a container; --userns', () => {
  const types = (a: string[]) => spec(a).linux!.namespaces!.map((n) => n.type + (n.path ? `=${n.path}` : ''));
  assert.deepEqual(types([]), ['mount', 'cgroup', 'pid', 'ipc', 'uts', 'network']);
  assert.deepEqual(types(['--pid', 'host', '--ipc', 'container:db', '--uts', 'host']), ['mount', 'cgroup', 'ipc=/proc/4242/ns/ipc', 'network']);
  assert.equal(options(['--userns', 'remap']).userns, 'remap');
  assert.ok(spec(['--userns', 'remap']).linux!.uidMappings);
});

test('--read-only, --init', () => {
  assert.equal(spec(['--read-only']).root!.readonly, true);
  assert.equal(options(['--init']).withInit, true);
});

test('--restart: the record\'s policy; --rm: AutoRemove (not with a policy)', () => {
  assert.deepEqual(restartPolicyOf(options(['-d', '--restart', 'on-failure:3']).restart), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(restartPolicyOf(options(['-d', '--restart', 'unless-stopped']).restart), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.equal(options(['--rm']).autoRemove, true);
  refused(['--rm', '--restart', 'always'], 'conflicting options: cannot specify both --restart and --rm', options);
  refused(['--restart', 'sometimes'], /^invalid restart policy "sometimes"/, options);
});

test('--health-*: the record\'s check in milliseconds, over the image\'s; --no-healthcheck turns it off', () => {
  const image = { Test: ['CMD', 'probe', '--quick'], Interval: 10e9, Timeout: 2e9, Retries: 5, StartPeriod: 1e9 };
  const hc = (a: string[], img = image) => healthcheckOf(options(a).health, img);
  assert.deepEqual(hc(['--health-cmd', 'test -e /ok', '--health-interval', '500ms', '--health-timeout', '1m30s', '--health-retries', '2', '--health-start-period', '1.5s']), {
    Test: ['/bin/sh', '-c', 'test -e /ok'], IntervalMs: 500, TimeoutMs: 90_000, Retries: 2, StartPeriodMs: 1500,
  });
  assert.deepEqual(hc(['--health-interval', '1s']), { Test: ['probe', '--quick'], IntervalMs: 1000, TimeoutMs: 2000, Retries: 5, StartPeriodMs: 1000 });
  assert.deepEqual(hc([]), { Test: ['probe', '--quick'], IntervalMs: 10_000, TimeoutMs: 2000, Retries: 5, StartPeriodMs: 1000 });
  assert.deepEqual(hc(['--health-cmd', 'true'], {} as typeof image), { Test: ['/bin/sh', '-c', 'true'], IntervalMs: 30_000, TimeoutMs: 30_000, Retries: 3, StartPeriodMs: 0 }, "Docker's defaults");
  assert.equal(hc(['--no-healthcheck']), undefined);
  assert.equal(hc(['--health-interval', '1s'], {} as typeof image), undefined, 'no command: no check');
});

test('--name', () => assert.equal(options(['--name', 'web']).name, 'web'));

test('--expose: a port and a range, as exposed ports of the container', () => {
  assert.deepEqual(options(['--expose', '90', '--expose', '7000-7001/udp']).exposed, ['90/tcp', '7000/udp', '7001/udp']);
});

test('--group-add: the groups create adds to the process (looked up in the image then)', () => {
  assert.deepEqual(options(['--group-add', 'audio', '--group-add', '10']).groupAdd, ['audio', '10']);
});

test('--pull never: no difference to what create gets (the engine applies the policy)', () => assert.deepEqual(options(['--pull', 'never']), options([])));

test('every flag of run/create has a case here', () => {
  // (This file's own text names each flag it runs, by its long or short form.)
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const missing = containerFlags(new Command('run')).options.filter((o) => ![o.long, o.short].some((f) => f && text.includes(`'${f}'`)));
  assert.deepEqual(missing.map((o) => o.flags), [], 'flags without a case in this file');
});
