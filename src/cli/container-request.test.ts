/**
 * run/create flags → ContainerCreateRequest: one case (at least) per flag, Docker's defaults, and
 * the messages for values berth cannot read (the same as before the request models).
 * container-request-docker.test.ts checks the same against the docker CLI's own bodies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { pullPolicy, containerFlags, containerRequestFromFlags, type ContainerFlags } from './container-request.js';
import type { ContainerCreateRequest } from '../engine/models.js';
import { isBerthError } from '../lib/errors.js';

const ENV: Record<string, string> = { HOME: '/root', SET_HERE: 'yes' };

/** argv as `berth create ARGV` (or `run`, which adds -d) parses it, as a request. */
function request(args: string[], verb: 'create' | 'run' = 'create'): ContainerCreateRequest {
  let out: ContainerCreateRequest | undefined;
  const cmd = containerFlags(new Command(verb).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  if (verb === 'run') cmd.option('-d, --detach', 'run in the background');
  cmd.action((image: string, command: string[], o: ContainerFlags) => {
    out = containerRequestFromFlags(image, command, o, (n) => ENV[n]);
  });
  cmd.parse([...args, ...(args.includes('busybox') ? [] : ['busybox'])], { from: 'user' });
  return out!;
}

type Expect = { name?: string; Config?: Record<string, unknown>; HostConfig?: Record<string, unknown>; NetworkingConfig?: Record<string, unknown> };

/** Each field given in `want` is exactly as given. */
function check(args: string[], want: Expect, verb: 'create' | 'run' = 'create') {
  const r = request(args, verb) as unknown as Record<string, Record<string, unknown> | string | undefined>;
  for (const [part, fields] of Object.entries(want)) {
    if (typeof fields !== 'object') {
      assert.deepEqual(r[part], fields, `${args.join(' ')}: ${part}`);
      continue;
    }
    for (const [k, v] of Object.entries(fields)) assert.deepEqual((r[part] as Record<string, unknown>)[k], v, `${args.join(' ')}: ${part}.${k}`);
  }
}

test("no flags: Docker's defaults", () => {
  const r = request(['busybox']);
  assert.deepEqual(r, {
    Config: { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false, StdinOnce: false, Image: 'busybox' },
    HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: 'no' }, MemorySwappiness: -1 },
    NetworkingConfig: { EndpointsConfig: { default: {} } },
  });
});

test('image and command: Image, Cmd (flags after the image belong to the command)', () => {
  check(['busybox', 'sh', '-c', 'echo hi', '-m', '1g'], { Config: { Image: 'busybox', Cmd: ['sh', '-c', 'echo hi', '-m', '1g'] }, HostConfig: { Memory: undefined } });
});

test('--name: the request name', () => check(['--name', 'web'], { name: 'web' }));

test('-e, --env-file: Env, files first, bare names from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-env-'));
  try {
    const f = join(dir, 'env');
    writeFileSync(f, '\uFEFFA=1\r\n  B=two \n#C=3\n\nSET_HERE\nNOT_SET\n');
    check(['--env-file', f, '-e', 'D=4', '-e', 'SET_HERE', '-e', 'NOT_SET', '-e', 'E='], { Config: { Env: ['A=1', 'B=two ', 'SET_HERE=yes', 'D=4', 'SET_HERE=yes', 'NOT_SET', 'E='] } });
    writeFileSync(f, 'OK=1\nBAD NAME=2\n');
    assert.throws(() => request(['--env-file', f]), { message: `${f}:2: variable "BAD NAME" contains whitespaces` });
    assert.throws(() => request(['--env-file', join(dir, 'none')]), (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message === `open ${join(dir, 'none')}: no such file or directory`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-w, -u, -h: WorkingDir, User, Hostname', () => check(['-w', '/srv', '-u', 'app:app', '-h', 'box.example.com'], { Config: { WorkingDir: '/srv', User: 'app:app', Hostname: 'box.example.com' } }));

test('--group-add: GroupAdd, in order', () => check(['--group-add', 'audio', '--group-add', '10'], { HostConfig: { GroupAdd: ['audio', '10'] } }));

test('--entrypoint: Entrypoint ([""] drops the image\'s)', () => {
  check(['--entrypoint', '/bin/sh'], { Config: { Entrypoint: ['/bin/sh'] } });
  check(['--entrypoint', ''], { Config: { Entrypoint: [''] } });
  check([], { Config: { Entrypoint: undefined } });
});

test('-l: Labels', () => check(['-l', 'a=b', '-l', 'c', '-l', 'd=e=f', '-l', 'a=z'], { Config: { Labels: { a: 'z', c: '', d: 'e=f' } } }));

test('-v: Binds, and a lone path an anonymous volume in Volumes', () => {
  check(['-v', '/tmp:/x:ro', '-v', 'data:/y', '-v', '/anon', '-v', '/ctr:ro'], { Config: { Volumes: { '/anon': {} } }, HostConfig: { Binds: ['/tmp:/x:ro', 'data:/y', '/ctr:ro'] } });
});

test('--volumes-from: VolumesFrom', () => check(['--volumes-from', 'a:ro', '--volumes-from', 'b'], { HostConfig: { VolumesFrom: ['a:ro', 'b'] } }));

test('--tmpfs: Tmpfs (the last one for a path wins)', () => check(['--tmpfs', '/run', '--tmpfs', '/c:size=1m,mode=1777', '--tmpfs', '/run:size=2m'], { HostConfig: { Tmpfs: { '/run': 'size=2m', '/c': 'size=1m,mode=1777' } } }));

test('--mount: Mounts', () => {
  check(
    [
      '--mount', 'type=bind,source=/tmp,target=/b,readonly,bind-propagation=rslave',
      '--mount', 'type=volume,src=data,dst=/w,volume-nocopy',
      '--mount', 'target=/v',
      '--mount', 'type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770,ro',
      '--mount', 'type=bind,src=/tmp,destination=/c,ro=false,consistency=cached',
    ],
    {
      HostConfig: {
        Mounts: [
          { Type: 'bind', Source: '/tmp', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
          { Type: 'volume', Source: 'data', Target: '/w', VolumeOptions: { NoCopy: true } },
          { Type: 'volume', Target: '/v' },
          { Type: 'tmpfs', Target: '/t', ReadOnly: true, TmpfsOptions: { SizeBytes: 64 * 1024 ** 2, Mode: 0o1770 } },
          { Type: 'bind', Source: '/tmp', Target: '/c', Consistency: 'cached' },
        ],
      },
    },
  );
});

test('-m, --memory-swap: bytes (-1 unlimited)', () => {
  check(['-m', '64m', '--memory-swap', '-1'], { HostConfig: { Memory: 64 * 1024 ** 2, MemorySwap: -1 } });
  check(['-m', '1.5g', '--memory-swap', '2g'], { HostConfig: { Memory: 1.5 * 1024 ** 3, MemorySwap: 2 * 1024 ** 3 } });
  check(['-m', '100'], { HostConfig: { Memory: 100 } });
  check(['-m', '64MiB'], { HostConfig: { Memory: 64 * 1024 ** 2 } });
});

test('--cpus: NanoCpus; --cpu-shares, --cpuset-cpus', () => {
  check(['--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0-1'], { HostConfig: { NanoCpus: 1_500_000_000, CpuShares: 512, CpusetCpus: '0-1' } });
  check(['--cpus', '0.01'], { HostConfig: { NanoCpus: 10_000_000 } });
});

test('--pids-limit: PidsLimit', () => {
  check(['--pids-limit', '100'], { HostConfig: { PidsLimit: 100 } });
  check(['--pids-limit', '-1'], { HostConfig: { PidsLimit: -1 } });
});

test('--ulimit: Ulimits, one per name, by name', () => {
  check(['--ulimit', 'nproc=10', '--ulimit', 'nofile=1024:2048', '--ulimit', 'core=-1', '--ulimit', 'nproc=20:30'], {
    HostConfig: { Ulimits: [{ Name: 'core', Soft: -1, Hard: -1 }, { Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 20, Hard: 30 }] },
  });
});

test('--cap-add, --cap-drop: CAP_ names (ALL stays ALL)', () => check(['--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_TIME', '--cap-drop', 'all', '--cap-drop', 'chown'], { HostConfig: { CapAdd: ['CAP_NET_ADMIN', 'CAP_SYS_TIME'], CapDrop: ['ALL', 'CAP_CHOWN'] } }));

test('--privileged, --read-only, --init', () => {
  check(['--privileged', '--read-only', '--init'], { HostConfig: { Privileged: true, ReadonlyRootfs: true, Init: true } });
  check([], { HostConfig: { Privileged: undefined, ReadonlyRootfs: undefined, Init: undefined } });
});

test('--security-opt: SecurityOpt, a seccomp profile read and sent inline', () => {
  check(['--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=unconfined', '--security-opt', 'seccomp:unconfined'], { HostConfig: { SecurityOpt: ['no-new-privileges', 'seccomp=unconfined', 'seccomp:unconfined'] } });
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
  try {
    const f = join(dir, 'p.json');
    writeFileSync(f, '{ "defaultAction": "SCMP_ACT_ERRNO",\n "syscalls": [] }');
    check(['--security-opt', `seccomp=${f}`], { HostConfig: { SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}'] } });
    writeFileSync(f, '{ not json');
    assert.throws(() => request(['--security-opt', `seccomp=${f}`]), (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message.startsWith(`decoding seccomp profile ${f}: `));
    assert.throws(() => request(['--security-opt', `seccomp=${dir}/none.json`]), (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message === `opening seccomp profile (${dir}/none.json) failed: open ${dir}/none.json: no such file or directory`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--stop-signal, --stop-timeout: StopSignal, StopTimeout (0 is a value)', () => {
  check(['--stop-signal', 'SIGUSR1', '--stop-timeout', '5'], { Config: { StopSignal: 'SIGUSR1', StopTimeout: 5 } });
  check(['--stop-timeout', '0'], { Config: { StopTimeout: 0 } });
  check([], { Config: { StopTimeout: undefined } });
});

test('--network and its endpoint options: NetworkMode, EndpointsConfig', () => {
  check(['--network', 'mynet', '--ip', '10.0.0.5', '--network-alias', 'a', '--network-alias', 'b', '--mac-address', '92:d0:c6:0a:29:33', '--link', 'db:d'], {
    HostConfig: { NetworkMode: 'mynet', Links: ['db:d'] },
    NetworkingConfig: { EndpointsConfig: { mynet: { IPAMConfig: { IPv4Address: '10.0.0.5' }, Links: ['db:d'], Aliases: ['a', 'b'], MacAddress: '92:d0:c6:0a:29:33' } } },
  });
  // A named network with nothing asked of it: no endpoint sent (the engine makes one).
  for (const n of ['mynet', 'bridge', 'host', 'none', 'container:other', 'default']) check(['--network', n], { HostConfig: { NetworkMode: n }, NetworkingConfig: { EndpointsConfig: {} } });
  // Links on the default bridge are legacy links: HostConfig only.
  check(['--link', 'db', '--mac-address', '92:d0:c6:0a:29:34'], { HostConfig: { NetworkMode: 'default', Links: ['db'] }, NetworkingConfig: { EndpointsConfig: { default: { MacAddress: '92:d0:c6:0a:29:34' } } } });
  check(['--network', 'none', '--mac-address', '92:d0:c6:0a:29:34'], { NetworkingConfig: { EndpointsConfig: { none: { MacAddress: '92:d0:c6:0a:29:34' } } } });
});

test('-p, -P: ExposedPorts, PortBindings, PublishAllPorts', () => {
  check(['-p', '8080:80', '-p', '127.0.0.1::90/udp', '-p', '9000-9001:100-101', '-p', '7000', '-p', '0.0.0.0:81:81', '-p', '8081:80', '-p', '8000-8010:82', '-P'], {
    Config: { ExposedPorts: { '80/tcp': {}, '90/udp': {}, '100/tcp': {}, '101/tcp': {}, '7000/tcp': {}, '81/tcp': {}, '82/tcp': {} } },
    HostConfig: {
      PublishAllPorts: true,
      PortBindings: {
        '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '', HostPort: '8081' }],
        '90/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '100/tcp': [{ HostIp: '', HostPort: '9000' }],
        '101/tcp': [{ HostIp: '', HostPort: '9001' }],
        '7000/tcp': [{ HostIp: '', HostPort: '' }],
        '81/tcp': [{ HostIp: '0.0.0.0', HostPort: '81' }],
        '82/tcp': [{ HostIp: '', HostPort: '8000-8010' }],
      },
    },
  });
});

test('--dns, --dns-search, --dns-option, --add-host: Dns, DnsSearch, DnsOptions, ExtraHosts (name:ip)', () => {
  check(['--dns', '1.1.1.1', '--dns-search', 'a.example', '--dns-option', 'ndots:2', '--add-host', 'h:1.2.3.4', '--add-host', 'g=5.6.7.8', '--add-host', 'gw:host-gateway'], {
    HostConfig: { Dns: ['1.1.1.1'], DnsSearch: ['a.example'], DnsOptions: ['ndots:2'], ExtraHosts: ['h:1.2.3.4', 'g:5.6.7.8', 'gw:host-gateway'] },
  });
});

test('--pid, --ipc, --uts, --userns: PidMode, IpcMode, UTSMode, UsernsMode', () => check(['--pid', 'host', '--ipc', 'container:db', '--uts', 'host', '--userns', 'remap'], { HostConfig: { PidMode: 'host', IpcMode: 'container:db', UTSMode: 'host', UsernsMode: 'remap' } }));

test('--device: Devices (a second field that is a mode is the permissions)', () => {
  check(['--device', '/dev/null', '--device', '/dev/zero:/dev/z', '--device', '/dev/full:/dev/f:r', '--device', '/dev/tty:rw'], {
    HostConfig: {
      Devices: [
        { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/full', PathInContainer: '/dev/f', CgroupPermissions: 'r' },
        { PathOnHost: '/dev/tty', PathInContainer: '/dev/tty', CgroupPermissions: 'rw' },
      ],
    },
  });
});

test('--blkio-weight and --device-{read,write}-{bps,iops}: BlkioWeight, BlkioDevice*', () => {
  check(['--blkio-weight', '300', '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:10', '--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sdb:5'], {
    HostConfig: {
      BlkioWeight: 300,
      BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1024 ** 2 }],
      BlkioDeviceWriteBps: [{ Path: '/dev/sda', Rate: 10 }],
      BlkioDeviceReadIOps: [{ Path: '/dev/sda', Rate: 100 }],
      BlkioDeviceWriteIOps: [{ Path: '/dev/sdb', Rate: 5 }],
    },
  });
});

test('--restart: RestartPolicy', () => {
  check(['--restart', 'always'], { HostConfig: { RestartPolicy: { Name: 'always' } } });
  check(['--restart', 'unless-stopped'], { HostConfig: { RestartPolicy: { Name: 'unless-stopped' } } });
  check(['--restart', 'on-failure'], { HostConfig: { RestartPolicy: { Name: 'on-failure' } } });
  check(['--restart', 'on-failure:3'], { HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } } });
  check(['--restart', 'no'], { HostConfig: { RestartPolicy: { Name: 'no' } } });
});

test('--rm: AutoRemove', () => {
  check(['--rm'], { HostConfig: { AutoRemove: true } });
  check([], { HostConfig: { AutoRemove: undefined } });
});

test('--health-*: Healthcheck in nanoseconds; --no-healthcheck: NONE', () => {
  check(['--health-cmd', 'curl -f http://x/', '--health-interval', '1m30s', '--health-timeout', '500ms', '--health-retries', '2', '--health-start-period', '1.5s'], {
    Config: { Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://x/'], Interval: 90e9, Timeout: 500e6, Retries: 2, StartPeriod: 1.5e9 } },
  });
  check(['--health-interval', '5s'], { Config: { Healthcheck: { Interval: 5e9 } } });
  check(['--no-healthcheck'], { Config: { Healthcheck: { Test: ['NONE'] } } });
  check([], { Config: { Healthcheck: undefined } });
});

test('-i, -t: OpenStdin, AttachStdin, StdinOnce, Tty', () => {
  check(['-i'], { Config: { OpenStdin: true, AttachStdin: true, StdinOnce: true, Tty: false } });
  check(['-t'], { Config: { Tty: true, OpenStdin: false, AttachStdin: false } });
});

test('run -d: nothing attached (stdin still open with -i)', () => {
  check(['-d', 'busybox'], { Config: { AttachStdin: false, AttachStdout: false, AttachStderr: false, StdinOnce: false } }, 'run');
  check(['-d', '-i', '-t', 'busybox'], { Config: { AttachStdin: false, AttachStdout: false, AttachStderr: false, OpenStdin: true, StdinOnce: false, Tty: true } }, 'run');
  check(['busybox'], { Config: { AttachStdout: true, AttachStderr: true } }, 'run');
});

test('values berth cannot read: the messages it has always given', () => {
  const cases: [string[], string][] = [
    [['-m', 'lots'], 'invalid memory "lots": use a number with an optional unit b, k, m, g'],
    [['--memory-swap', 'x'], 'invalid memory-swap "x": use a number with an optional unit b, k, m, g'],
    [['--cpus', 'abc'], 'invalid argument "abc" for "--cpus" flag: must be a positive number'],
    [['--cpus', '-1'], 'invalid argument "-1" for "--cpus" flag: must be a positive number'],
    [['--cpus', '0'], 'invalid argument "0" for "--cpus" flag: must be a positive number'],
    [['--cpu-shares', 'x'], 'invalid argument "x" for "--cpu-shares" flag'],
    [['--pids-limit', 'x'], 'invalid argument "x" for "--pids-limit" flag'],
    [['--stop-timeout', 'soon'], 'invalid argument "soon" for "--stop-timeout" flag'],
    [['--blkio-weight', 'x'], 'invalid argument "x" for "--blkio-weight" flag'],
    [['--blkio-weight', '0'], 'invalid --blkio-weight 0: range is from 10 to 1000'],
    [['--restart', 'sometimes'], 'invalid restart policy "sometimes" (no, always, unless-stopped, on-failure[:max-retries])'],
    [['--restart', 'always:3'], 'invalid restart policy "always:3" (no, always, unless-stopped, on-failure[:max-retries])'],
    [['--rm', '--restart', 'always'], 'conflicting options: cannot specify both --restart and --rm'],
    [['--health-interval', '5'], 'invalid argument "5" for "--health-interval" flag: time: invalid duration'],
    [['--health-timeout', '0s'], 'invalid argument "0s" for "--health-timeout" flag: time: invalid duration'],
    [['--health-start-period', '-1s'], 'invalid argument "-1s" for "--health-start-period" flag: time: invalid duration'],
    [['--health-retries', 'x'], '--health-interval and --health-timeout must be positive durations, --health-retries at least 1'],
    [['--health-retries', '0'], '--health-interval and --health-timeout must be positive durations, --health-retries at least 1'],
    [['-p', 'abc'], 'invalid port specification: "abc": "abc" is not a port or a range of ports (1-65535)'],
    [['-p', '80/sctp'], 'invalid port specification: "80/sctp": protocol "sctp" is not tcp or udp'],
    [['-p', '1:2:3:4'], 'invalid port specification: "1:2:3:4" (use [ip:]hostPort:containerPort[/tcp|udp] or containerPort)'],
    [['-p', 'host:80:80'], 'invalid port specification: "host:80:80": "host" is not an IPv4 address'],
    [['-p', '8000-8001:80-82'], 'invalid port specification: "8000-8001:80-82": the host range and the container range differ in size'],
    [['-p', '70000'], 'invalid port specification: "70000": "70000" is not a port or a range of ports (1-65535)'],
    [['--mount', 'type=nfs,target=/x'], 'invalid argument "type=nfs,target=/x" for "--mount" flag: unknown mount type "nfs" (bind, volume or tmpfs)'],
    [['--mount', 'type=bind,target=/x'], 'invalid argument "type=bind,target=/x" for "--mount" flag: source is required for a bind mount'],
    [['--mount', 'source=v'], 'invalid argument "source=v" for "--mount" flag: target is required'],
    [['--mount', 'type=volume,target=/x,tmpfs-size=1m'], 'invalid argument "type=volume,target=/x,tmpfs-size=1m" for "--mount" flag: unexpected key "tmpfs-size" for a volume mount'],
    [['--mount', 'type=tmpfs,target=/x,tmpfs-mode=999'], 'invalid argument "type=tmpfs,target=/x,tmpfs-mode=999" for "--mount" flag: invalid tmpfs-mode "999"'],
    [['--mount', 'type=tmpfs,target=/x,tmpfs-size=big'], 'invalid tmpfs-size "big": use a number with an optional unit b, k, m, g'],
    [['--mount', 'type=bind,src=/a,target=/x,oops'], 'invalid argument "type=bind,src=/a,target=/x,oops" for "--mount" flag: invalid field "oops" must be a key=value pair'],
    [['--ulimit', 'bogus=1'], 'invalid --ulimit "bogus=1" (name=soft[:hard], e.g. nofile=1024:2048)'],
    [['--ulimit', 'nofile'], 'invalid --ulimit "nofile" (name=soft[:hard], e.g. nofile=1024:2048)'],
    [['--ulimit', 'nofile=2048:1024'], 'invalid --ulimit "nofile=2048:1024": soft limit 2048 is above the hard limit 1024'],
    [['--device', '/dev/null:/x:q'], 'invalid --device "/dev/null:/x:q": bad permissions "q"'],
    [['--device-read-bps', 'nodevice'], 'invalid value "nodevice" for --device-read-bps: use DEVICE:RATE'],
    [['--device-write-bps', '/dev/sda:fast'], 'invalid rate "fast": use a number with an optional unit b, k, m, g'],
    [['--device-read-iops', '/dev/sda:1k'], 'invalid value "/dev/sda:1k" for --device-read-iops: bad rate'],
    [['--device-write-iops', ':5'], 'invalid value ":5" for --device-write-iops: use DEVICE:RATE'],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => request(args), (e: unknown) => {
      assert.ok(isBerthError(e, 'InvalidArgument'), `${args.join(' ')}: ${String(e)}`);
      assert.equal(e.message, message, args.join(' '));
      return true;
    });
  }
});

/** The flags object of `create ARGV`. */
function flags(args: string[]): ContainerFlags {
  let out: ContainerFlags | undefined;
  const cmd = containerFlags(new Command('create').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  cmd.action((_image: string, _command: string[], o: ContainerFlags) => {
    out = o;
  });
  cmd.parse([...args, 'busybox'], { from: 'user' });
  return out!;
}

test('--expose: ports and ranges in Config.ExposedPorts, as the docker CLI sends them', () => {
  assert.deepEqual(request(['--expose', '90', '--expose', '7000-7001/udp']).Config?.ExposedPorts, { '90/tcp': {}, '7000/udp': {}, '7001/udp': {} });
  assert.throws(() => request(['--expose', '9-1']), /invalid range format for --expose: 9-1/);
});

test('--pull: missing (the default), never and always as the policy of the engine; another value is refused as docker does', () => {
  assert.equal(flags([]).pull, 'missing');
  assert.equal(pullPolicy(flags([])), 'missing');
  assert.equal(pullPolicy(flags(['--pull', 'never'])), 'never');
  assert.equal(pullPolicy(flags(['--pull=always'])), 'always');
  assert.throws(() => pullPolicy(flags(['--pull', 'bogus'])), (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message === `invalid pull option: 'bogus': must be one of "always", "missing" or "never"`);
  // The request's body does not carry the policy (the CLI adds it beside the body).
  assert.deepEqual(request(['--pull', 'never']), request([]));
});

test('every flag of run/create has a case here', () => {
  const cmd = containerFlags(new Command('create'));
  const covered = new Set([
    'rm', 'name', 'env', 'envFile', 'workdir', 'user', 'groupAdd', 'hostname', 'entrypoint', 'label', 'volume', 'volumesFrom', 'tmpfs', 'mount', 'memory',
    'memorySwap', 'cpus', 'cpuShares', 'cpusetCpus', 'pidsLimit', 'ulimit', 'capAdd', 'capDrop', 'privileged', 'securityOpt', 'stopSignal',
    'stopTimeout', 'network', 'publish', 'publishAll', 'ip', 'macAddress', 'link', 'networkAlias', 'dns', 'dnsSearch', 'dnsOption', 'addHost',
    'pid', 'userns', 'ipc', 'uts', 'readOnly', 'init', 'device', 'blkioWeight', 'deviceReadBps', 'deviceWriteBps', 'deviceReadIops',
    'deviceWriteIops', 'restart', 'healthCmd', 'healthInterval', 'healthTimeout', 'healthRetries', 'healthStartPeriod', 'healthcheck',
    'interactive', 'tty', 'pull', 'expose',
  ]);
  const flags = cmd.options.map((o) => o.attributeName());
  assert.deepEqual(flags.filter((f) => !covered.has(f)), [], 'flags without a case in this file');
});
