/**
 * Docker's defaults and shapes, proven against the real docker CLI: a small Engine API on a unix
 * socket records the body `docker create FLAGS busybox CMD` posts to /containers/create, and the
 * same command line, parsed with berth's flags, must give the same Config, HostConfig and
 * NetworkingConfig (zero values, which mean "not set" on both sides, left out of the comparison).
 * Where berth deliberately reads a flag differently, the case below says so and checks both sides.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { containerFlags, containerRequestFromFlags, type ContainerFlags } from './container-request.js';
import { containerCreateRequestFromBody, type ContainerCreateBody, type ContainerCreateRequest } from '../engine/models.js';

/** The docker CLI on PATH, if there is one. */
function findDocker(): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = join(d || '.', 'docker');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const docker = findDocker();
const skip = docker ? false : 'the docker CLI is not installed (it is the reference this test compares with)';

let dir = '';
let sock = '';
let server: Server | undefined;
const bodies: { url: string; body: string }[] = [];

before(async () => {
  if (!docker) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-docker-cli-'));
  sock = join(dir, 'docker.sock');
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const h = { 'API-Version': '1.47', OSType: 'linux', 'Docker-Experimental': 'false', 'Content-Type': 'application/json' };
      const url = req.url ?? '';
      if (/\/_ping$/.test(url)) {
        res.writeHead(200, { ...h, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : 'OK');
      } else if (/\/version$/.test(url)) {
        res.writeHead(200, h);
        res.end(JSON.stringify({ Version: '27.5.0', ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' }));
      } else if (req.method === 'POST' && /^\/v[\d.]+\/containers\/create(\?|$)/.test(url)) {
        bodies.push({ url, body });
        res.writeHead(201, h);
        res.end(JSON.stringify({ Id: 'f'.repeat(64), Warnings: [] }));
      } else if (req.method === 'POST' && /\/containers\/f+\/start$/.test(url)) {
        res.writeHead(204, h);
        res.end();
      } else if (req.method === 'POST' && /\/containers\/f+\/wait/.test(url)) {
        res.writeHead(200, h);
        res.end(JSON.stringify({ StatusCode: 0 }));
      } else {
        res.writeHead(404, h);
        res.end(JSON.stringify({ message: `berth test: no route for ${req.method} ${url}` }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(sock, resolve);
  });
});

after(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The environment both sides see (for -e NAME and env files' bare names). */
const ENV: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', BERTH_T_SET: 'from-env' };

/** What the docker CLI posts for `docker <verb> ARGS`, as a request (name from the query). */
async function dockerRequest(verb: 'create' | 'run', args: string[]): Promise<ContainerCreateRequest> {
  bodies.length = 0;
  await new Promise<void>((resolve, reject) => {
    execFile(docker!, ['-H', `unix://${sock}`, verb, ...args], { env: { ...ENV, DOCKER_CONFIG: join(dir, 'config') }, timeout: 60_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`docker ${verb} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve();
    });
  });
  assert.equal(bodies.length, 1, `docker ${verb} ${args.join(' ')} posted ${bodies.length} create requests`);
  const { url, body } = bodies[0]!;
  const name = new URL(url, 'http://x').searchParams.get('name') ?? undefined;
  return containerCreateRequestFromBody(JSON.parse(body) as ContainerCreateBody, { name });
}

/** The same command line through berth's flags. */
function berthRequest(verb: 'create' | 'run', args: string[]): ContainerCreateRequest {
  let out: ContainerCreateRequest | undefined;
  const cmd = containerFlags(new Command(verb).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
  if (verb === 'run') cmd.option('-d, --detach', 'run in the background');
  cmd.action((image: string, command: string[], o: ContainerFlags) => {
    out = containerRequestFromFlags(image, command, o, (n) => ENV[n]);
  });
  cmd.parse(args, { from: 'user' });
  return out!;
}

/** Fields whose keys are data: their entries stay even when empty ({"/data": {}}, {"a": ""}). */
const MAPS = new Set(['Labels', 'Volumes', 'ExposedPorts', 'Tmpfs', 'PortBindings', 'EndpointsConfig', 'Sysctls', 'StorageOpt']);
/**
 * Lists the docker CLI fills from a Go map, in no fixed order (berth keeps the order given):
 * compared as sets.
 */
const UNORDERED = new Set(['Env', 'Binds']);
/** Pointers in Docker's types: 0 or false there is a value, not "unset". */
const POINTERS = new Set(['StopTimeout', 'Init']);

function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0 || v.every((x) => x === 0);
  return typeof v === 'object' && Object.keys(v as object).length === 0;
}

/** The value without its zero fields (what "not set" means in Docker's API). */
function significant(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => significant(x));
    return UNORDERED.has(key) ? items.sort() : items;
  }
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (MAPS.has(key)) {
      out[k] = typeof x === 'object' && x !== null && !Array.isArray(x) ? significant(x, k) : x;
      continue;
    }
    const s = significant(x, k);
    if (x === null || x === undefined) continue;
    if (POINTERS.has(k) || !isZero(s)) out[k] = s;
  }
  return out;
}

function comparable(r: ContainerCreateRequest) {
  return significant({ name: r.name, Config: r.Config, HostConfig: r.HostConfig, NetworkingConfig: r.NetworkingConfig });
}

async function same(args: string[], verb: 'create' | 'run' = 'create') {
  const d = await dockerRequest(verb, args);
  const b = berthRequest(verb, args);
  assert.deepEqual(comparable(b), comparable(d), `${verb} ${args.join(' ')}`);
  return { docker: d, berth: b };
}

function files() {
  const envFile = join(dir, 'env.list');
  writeFileSync(envFile, 'A=1\n  B=two words \n# a comment\n\nBERTH_T_SET\nBERTH_T_UNSET\nHOME\nC=x=y\n');
  const seccomp = join(dir, 'seccomp.json');
  writeFileSync(seccomp, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n');
  return { envFile, seccomp };
}

/** Every flag of run/create, alone or with its neighbours, as the docker CLI sends it. */
const CASES: string[][] = [
  [],
  ['--name', 'web1'],
  ['-e', 'A=1', '-e', 'BERTH_T_SET', '-e', 'BERTH_T_UNSET', '-e', 'EMPTY='],
  ['-w', '/srv', '-u', '1000:1000', '-h', 'box.example.com'],
  ['--entrypoint', '/bin/sh'],
  ['--entrypoint', ''],
  ['-l', 'a=b', '-l', 'c', '-l', 'd=e=f', '-l', 'a=again'],
  ['-v', '/tmp:/x:ro', '-v', 'vol:/y', '-v', '/anon', '-v', '/tmp:/q:rw,rshared,z', '-v', 'vol2:/n:nocopy', '-v', '/ctr:ro'],
  ['--volumes-from', 'other:ro', '--volumes-from', 'third'],
  ['--tmpfs', '/run', '--tmpfs', '/cache:size=64m,mode=1777', '--tmpfs', '/run:size=1m'],
  ['--mount', 'type=bind,source=/tmp,target=/b,readonly,bind-propagation=rslave'],
  ['--mount', 'type=bind,src=/tmp,dst=/c,ro=false,consistency=cached'],
  ['--mount', 'type=volume,target=/v', '--mount', 'type=volume,src=data,dst=/w,volume-nocopy', '--mount', 'target=/z,readonly'],
  ['--mount', 'type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770', '--mount', 'type=tmpfs,destination=/u,ro'],
  ['-m', '64m', '--memory-swap', '-1'],
  ['-m', '1.5g', '--memory-swap', '2g'],
  ['-m', '100'],
  ['-m', '64MiB'],
  ['--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0-1'],
  ['--cpus', '0.01'],
  ['--pids-limit', '100'],
  ['--pids-limit', '-1'],
  ['--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=10', '--ulimit', 'core=-1', '--ulimit', 'nproc=20:30'],
  ['--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_TIME', '--cap-drop', 'all', '--cap-drop', 'chown'],
  ['--privileged'],
  ['--group-add', 'audio', '--group-add', '10'],
  ['--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=unconfined'],
  ['--security-opt', 'no-new-privileges:true', '--security-opt', 'seccomp:unconfined'],
  ['--stop-signal', 'SIGUSR1', '--stop-timeout', '5'],
  ['--stop-timeout', '0'],
  ['--network', 'mynet', '--ip', '10.0.0.5', '--network-alias', 'a', '--network-alias', 'b', '--mac-address', '92:d0:c6:0a:29:33', '--link', 'db:d', '--link', 'other'],
  ['--network', 'mynet'],
  ['--network', 'bridge'],
  ['--network', 'bridge', '--link', 'db'],
  ['--network', 'default', '--link', 'db:alias'],
  ['--network', 'host'],
  ['--network', 'none'],
  ['--network', 'container:other'],
  ['--link', 'db', '--mac-address', '92:d0:c6:0a:29:34'],
  ['-p', '8080:80', '-p', '127.0.0.1::90/udp', '-p', '9000-9001:100-101', '-p', '7000', '-p', '0.0.0.0:81:81', '-P'],
  ['-p', '8080:80', '-p', '8081:80'],
  ['-p', '8000-8010:80'],
  ['-p', '127.0.0.1:5000-5001:5000-5001/udp'],
  ['--dns', '1.1.1.1', '--dns', '8.8.8.8', '--dns-search', 'a.example', '--dns-option', 'ndots:2'],
  ['--add-host', 'h:1.2.3.4', '--add-host', 'g=5.6.7.8', '--add-host', 'gw:host-gateway'],
  ['--pid', 'host', '--ipc', 'container:other', '--uts', 'host', '--userns', 'host'],
  ['--ipc', 'shareable', '--pid', 'container:x'],
  ['--read-only', '--init'],
  ['--device', '/dev/null', '--device', '/dev/zero:/dev/z', '--device', '/dev/full:/dev/f:r', '--device', '/dev/tty:rw'],
  ['--blkio-weight', '300', '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:10', '--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sdb:5'],
  ['--restart', 'always'],
  ['--restart', 'unless-stopped'],
  ['--restart', 'on-failure'],
  ['--restart', 'on-failure:3'],
  ['--restart', 'no'],
  ['--rm'],
  ['--health-cmd', 'curl -f http://localhost/ || exit 1', '--health-interval', '1m30s', '--health-timeout', '500ms', '--health-retries', '2', '--health-start-period', '1.5s'],
  ['--health-interval', '5s'],
  ['--health-timeout', '2h', '--health-start-period', '100ms'],
  ['--no-healthcheck'],
  ['-i'],
  ['-t'],
  ['-i', '-t', '--rm', '--name', 'it'],
];

for (const args of CASES) {
  test(`create ${args.join(' ')}: the body the docker CLI sends`, { skip }, async () => {
    await same([...args, 'busybox', 'echo', 'hi']);
  });
}

test('a create without a command or with a command of flags', { skip }, async () => {
  await same(['busybox']);
  await same(['busybox', 'sh', '-c', 'echo $HOME', '--not-a-flag']);
});

test('env files are read by the CLI, as the docker CLI reads them', { skip }, async () => {
  const { envFile } = files();
  const { berth } = await same(['--env-file', envFile, '-e', 'D=4', 'busybox']);
  // Left-trimmed only, bare names from the environment (dropped when unset), then -e.
  assert.deepEqual(berth.Config.Env, ['A=1', 'B=two words ', 'BERTH_T_SET=from-env', 'HOME=/root', 'C=x=y', 'D=4']);
});

test('a seccomp profile is read by the CLI and sent inline', { skip }, async () => {
  const { seccomp } = files();
  const { berth } = await same(['--security-opt', `seccomp=${seccomp}`, 'busybox']);
  assert.deepEqual(berth.HostConfig.SecurityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}']);
});

test('run -d detaches stdio; run -d -i keeps stdin open', { skip }, async () => {
  await same(['-d', 'busybox', 'true'], 'run');
  await same(['-d', '-i', '-t', '--rm', 'busybox', 'sh'], 'run');
  await same(['-d', '--restart', 'always', '-p', '80', 'busybox'], 'run');
});

test("Docker's defaults: NetworkMode default, restart no, swappiness -1, stdout and stderr attached", { skip }, async () => {
  const { docker: d, berth: b } = await same(['busybox']);
  for (const r of [d, b]) {
    assert.equal(r.HostConfig.NetworkMode, 'default');
    assert.deepEqual(r.HostConfig.RestartPolicy?.Name, 'no');
    assert.equal(r.HostConfig.MemorySwappiness, -1);
    assert.equal(r.Config.AttachStdout, true);
    assert.equal(r.Config.AttachStderr, true);
    assert.equal(r.Config.AttachStdin, false);
    assert.ok(r.NetworkingConfig.EndpointsConfig && 'default' in r.NetworkingConfig.EndpointsConfig);
  }
});

// Where berth reads a flag differently from the docker CLI, on purpose (berth's behaviour kept).

test('a relative bind source (./dir) is made absolute against the CLI\'s directory, as the docker CLI does', { skip }, async () => {
  const d = await dockerRequest('create', ['-v', './rel:/x', 'busybox']);
  const b = berthRequest('create', ['-v', './rel:/x', 'busybox']);
  assert.match(d.HostConfig.Binds![0]!, /^\/.*\/rel:\/x$/);
  assert.deepEqual(b.HostConfig.Binds, [`${process.cwd()}/rel:/x`]);
});

test('differs: values the docker CLI passes to the daemon are refused by berth with its messages', { skip }, async () => {
  const cases: [string[], RegExp][] = [
    [['--restart', 'always:3'], /invalid restart policy "always:3"/],
    [['--restart', 'bogus'], /invalid restart policy "bogus"/],
    [['--cpus', '0'], /invalid argument "0" for "--cpus" flag: must be a positive number/],
    [['--health-retries', '0'], /--health-retries at least 1/],
    [['--health-interval', '0s'], /invalid argument "0s" for "--health-interval" flag: time: invalid duration/],
    [['-p', '80/sctp'], /protocol "sctp" is not tcp or udp/],
    [['-p', '[::1]:80:80'], /invalid port specification/],
    [['--mount', 'type=bind,target=/x'], /source is required for a bind mount/],
    [['--mount', 'type=foo,target=/x'], /unknown mount type "foo"/],
    [['--blkio-weight', '0'], /invalid --blkio-weight 0: range is from 10 to 1000/],
  ];
  for (const [args, re] of cases) {
    await dockerRequest('create', [...args, 'busybox']); // docker sends these
    assert.throws(() => berthRequest('create', [...args, 'busybox']), re, args.join(' '));
  }
});

test('differs: --no-healthcheck wins over --health-* (the docker CLI refuses the pair)', { skip }, async () => {
  await assert.rejects(dockerRequest('create', ['--no-healthcheck', '--health-cmd', 'true', 'busybox']), /conflicts with --health-\* options/);
  assert.deepEqual(berthRequest('create', ['--no-healthcheck', '--health-cmd', 'true', 'busybox']).Config.Healthcheck, { Test: ['NONE'] });
});

test('the same refusals as the docker CLI: --rm with --restart', { skip }, async () => {
  await assert.rejects(dockerRequest('create', ['--rm', '--restart', 'always', 'busybox']), /conflicting options/i);
  assert.throws(() => berthRequest('create', ['--rm', '--restart', 'always', 'busybox']), /conflicting options: cannot specify both --restart and --rm/);
});
