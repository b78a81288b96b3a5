/**
 * A container's configuration side by side: the whole `inspect` record of containers made with
 * many flag sets, compared field by field after normalising ids, times and the engines' own
 * directories (the fields that differ on purpose are listed, with why, in KNOWN below), and the
 * process environment the flags give (`id`, `env`, limits, hostname, /etc files) in run and exec.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRoot, cleanupTmp } from '../helpers.js';
import { dockerdSkip, normalizeIds, sideBySide, type SideBySide } from './side-by-side.js';

/**
 * inspect fields where berth differs from this dockerd on purpose or for the host (README,
 * differences from Docker), each with what is compared instead:
 * - Driver, GraphDriver: berth's own snapshotter ("overlay", its directories), not overlay2.
 * - HostConfig.CgroupnsMode: berth gives every container a cgroup namespace ("private"); dockerd
 *   on this cgroup v1 host uses the host's ("host"; "private" on v2).
 * - HostConfig.MaskedPaths: berth masks the paths of Docker 25+ (also
 *   /sys/devices/virtual/powercap); this dockerd is 20.10. Compared as sets minus that one.
 * - HostConfig.CapAdd/CapDrop: the docker CLI this harness drives (20.10) sends them as typed, a
 *   newer one (and berth's) as CAP_NAMES. Compared normalised.
 * - Config.Env, HostConfig.Binds: the 20.10 CLI sends -e and -v through maps (their order varies
 *   run to run). Compared as sets.
 */
const KNOWN = /^(Driver|GraphDriver(\..*)?|HostConfig\.CgroupnsMode|HostConfig\.MaskedPaths|HostConfig\.CapAdd|HostConfig\.CapDrop|HostConfig\.Binds|Config\.Env|Mounts)$/;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function flatten(v: Json, path: string, out: Map<string, string>): Map<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
    for (const [k, x] of Object.entries(v)) flatten(x, path ? `${path}.${k}` : k, out);
  } else out.set(path, JSON.stringify(v));
  return out;
}

const caps = (l: Json) => (Array.isArray(l) ? l.map((c) => String(c).toUpperCase().replace(/^(?!CAP_|ALL$)/, 'CAP_')) : l);
const sorted = (l: Json) => (Array.isArray(l) ? [...l].map(String).sort() : l);

describe('side by side: a container\'s configuration', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  let bindDir = '';
  let n = 0;
  before(async () => {
    sbs = await sideBySide('config');
    bindDir = join(sbs.dir, 'bind');
    mkdirSync(bindDir, { recursive: true });
    writeFileSync(join(bindDir, 'f'), 'in the bind\n');
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  /** Each engine's own directories and generated values made alike. */
  const norm = (s: string, id: string) =>
    normalizeIds(
      s
        .replaceAll(join(sbs.dir, 'docker', 'data', 'volumes'), '<volumes>')
        .replaceAll(join(sbs.dir, 'root', 'volumes'), '<volumes>')
        .replaceAll(join(sbs.dir, 'docker', 'data', 'containers', id, `${id}-json.log`), '<log>')
        .replaceAll(join(sbs.dir, 'root', 'containers', id, 'json.log'), '<log>')
        .replaceAll(join(sbs.dir, 'docker', 'data', 'containers', id), '<ctr>')
        .replaceAll(join(sbs.dir, 'run', 'containers', id), '<ctr>')
        .replaceAll(id, '<id>')
        .replaceAll(id.slice(0, 12), '<id>'),
    );

  function inspectOf(run: (a: string[]) => { stdout: string; status: number | null; stderr: string }, name: string): { [k: string]: Json } {
    const r = run(['inspect', name]);
    assert.equal(r.status, 0, r.stderr);
    const rec = (JSON.parse(r.stdout) as { [k: string]: Json }[])[0]!;
    return JSON.parse(norm(JSON.stringify(rec), rec['Id'] as string)) as { [k: string]: Json };
  }

  /** The fields of the two inspect records that differ (but KNOWN's), and KNOWN's compared their way. */
  function differences(name: string, also?: RegExp): string[] {
    const d = inspectOf(sbs.docker, name);
    const b = inspectOf(sbs.berth, name);
    const fd = flatten(d, '', new Map());
    const fb = flatten(b, '', new Map());
    const out: string[] = [];
    for (const k of new Set([...fd.keys(), ...fb.keys()])) {
      const top = k.replace(/\..*/, '');
      if (KNOWN.test(k) || KNOWN.test(top) || also?.test(k) || /^HostConfig\.(MaskedPaths|CapAdd|CapDrop|Binds)\b|^Config\.Env\b|^Mounts\b|^GraphDriver\b/.test(k)) continue;
      if (fd.get(k) !== fb.get(k)) out.push(`${k}: docker ${fd.get(k) ?? '(none)'}, berth ${fb.get(k) ?? '(none)'}`);
    }
    const dh = d['HostConfig'] as { [k: string]: Json };
    const bh = b['HostConfig'] as { [k: string]: Json };
    const dc = d['Config'] as { [k: string]: Json };
    const bc = b['Config'] as { [k: string]: Json };
    const cmp = (what: string, x: unknown, y: unknown) => {
      if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${what}: docker ${JSON.stringify(x)}, berth ${JSON.stringify(y)}`);
    };
    cmp('HostConfig.CapAdd', caps(dh['CapAdd']!), caps(bh['CapAdd']!));
    cmp('HostConfig.CapDrop', caps(dh['CapDrop']!), caps(bh['CapDrop']!));
    const masked = (l: Json) => (Array.isArray(l) ? sorted(l.filter((p) => p !== '/sys/devices/virtual/powercap')) : l);
    cmp('HostConfig.MaskedPaths', masked(dh['MaskedPaths']!), masked(bh['MaskedPaths']!));
    cmp('Config.Env', sorted(dc['Env']!), sorted(bc['Env']!));
    cmp('HostConfig.Binds', sorted(dh['Binds']!), sorted(bh['Binds']!));
    // Mounts: dockerd lists them in no set order (a map); by destination here.
    const mounts = (l: Json) => JSON.stringify((l as { Destination: string }[]).map((m) => JSON.stringify(m)).sort());
    cmp('Mounts', mounts(d['Mounts']!), mounts(b['Mounts']!));
    return out;
  }

  /** A container made in both with FLAGS (and the image), whose inspect records must match. */
  function sameRecord(flags: string[], command: string[] = ['true'], opts: { start?: boolean; also?: RegExp } = {}) {
    const name = `cfg${n++}`;
    sbs.same(['create', '--name', name, ...flags, 'busybox', ...command]);
    if (opts.start) {
      sbs.same(['start', '-a', name]);
    }
    assert.deepEqual(differences(name, opts.also), [], `inspect of create ${flags.join(' ')}`);
    sbs.same(['rm', '-v', name]);
  }

  it('inspect: a container with no flags (no network)', () => sameRecord(['--network', 'none']));
  it('inspect: -e (image env after the user\'s; a bare name kept; no HOSTNAME), -u, --entrypoint, --stop-timeout, -w, -h', () =>
    sameRecord(['--network', 'none', '-e', 'A=1', '-e', 'PATH=/x', '-e', 'UNSET_IN_BOTH', '-u', '1234', '--entrypoint', 'sh', '--stop-timeout', '5', '-w', '/newdir', '-h', 'myhost'], ['-c', 'true']));
  it('inspect: --tmpfs, --init, --cap-add/--cap-drop, -m (MemorySwap twice), --cpus, --ulimit, --read-only', () =>
    sameRecord(['--network', 'none', '--tmpfs', '/t', '--tmpfs', '/u:size=1m,mode=700', '--init', '--cap-add', 'net_admin', '--cap-drop', 'CHOWN', '-m', '64m', '--cpus', '1.5', '--ulimit', 'nofile=100:200', '--read-only']));
  it('inspect: -v binds and volumes, --mount bind/volume/tmpfs (Mounts with Mode, RW, Propagation, Driver)', () =>
    sameRecord(['--network', 'none', '-v', `${bindDir}:/b`, '-v', '/anon', '-v', 'named:/n:ro', '-v', `${bindDir}:/c:ro,rshared`, '--mount', `type=bind,source=${bindDir},target=/m`, '--mount', 'type=volume,target=/mv', '--mount', 'type=tmpfs,target=/mt,tmpfs-size=1000000']));
  it('inspect: --volumes-from copies the mounts (Mode not, RW by :ro)', () => {
    sbs.same(['create', '--name', 'vsrc', '--network', 'none', '-v', `${bindDir}:/b:ro`, '-v', 'vnamed:/n', 'busybox', 'true']);
    sameRecord(['--network', 'none', '--volumes-from', 'vsrc:ro']);
    sbs.same(['rm', '-v', 'vsrc']);
    sbs.same(['volume', 'rm', 'vnamed', 'named']);
  });
  it('inspect: --dns*, --add-host, -l, --restart, --pids-limit, --memory-swap -1', () =>
    sameRecord(['--network', 'none', '--dns', '1.2.3.4', '--dns-search', 'ex.com', '--dns-option', 'ndots:2', '--add-host', 'foo:5.6.7.8', '-l', 'a=b', '--restart', 'on-failure:3', '--pids-limit', '10', '--memory-swap', '-1', '-m', '32m']));
  it('inspect: --pids-limit -1 and 0 are unlimited (null)', () => {
    sameRecord(['--network', 'none', '--pids-limit', '-1']);
    sameRecord(['--network', 'none', '--pids-limit', '0']);
  });
  it('inspect: --network host (the host\'s hostname in Config.Hostname)', () => sameRecord(['--network', 'host']));
  it('inspect: --rm -t -i --privileged (label=disable, no masked paths), --security-opt, --cpu-shares, --cpuset-cpus', () =>
    sameRecord(['--network', 'none', '--rm', '-t', '-i', '--privileged', '--security-opt', 'no-new-privileges', '--cpu-shares', '100', '--cpuset-cpus', '0']));
  it('inspect: -h with a domain, --group-add, no command (the image\'s Cmd)', () => sameRecord(['--network', 'none', '-h', 'a.b.c', '--group-add', '10'], []));
  // (berth has no records of the predefined none and host networks, so no NetworkID for them, and
  // a --network none container's namespace is its own, without a file: no sandbox to show.)
  it('inspect: --health-*, --stop-signal, --entrypoint "" (no entrypoint, no Cmd of the image), --env-file', () => {
    const envFile = join(sbs.dir, 'env');
    writeFileSync(envFile, 'FROM_FILE=1\n# a comment\nB=2\n');
    sameRecord(['--network', 'none', '--health-cmd', 'true', '--health-interval', '5s', '--health-retries', '2', '--stop-signal', 'SIGUSR1', '--entrypoint', '', '--env-file', envFile], ['echo', 'hi']);
    sameRecord(['--network', 'none', '--no-healthcheck']);
  });
  it('inspect: --pid, --ipc, --uts host; --restart always', () =>
    sameRecord(['--network', 'none', '--pid', 'host', '--ipc', 'host', '--uts', 'host', '--restart', 'always']));
  // (No --ip: each engine's network has its own subnet, as both make bridges on this host.)
  it('inspect: a user network with -p, --network-alias (as created: no address yet)', () => {
    sbs.same(['network', 'create', 'cfgnet2']);
    sameRecord(['--network', 'cfgnet2', '-p', '127.0.0.1:8080:80/tcp', '-p', '53/udp', '--network-alias', 'web']);
    sbs.same(['network', 'rm', 'cfgnet2']);
  });
  it('inspect: a started and exited container (State, paths of its /etc files, LogPath)', () =>
    sameRecord(['--network', 'none'], ['true'], { start: true, also: /^NetworkSettings\.(SandboxID|SandboxKey|Networks\.none\.NetworkID)$/ }));

  it('create: a container name of one character is refused, as dockerd refuses it', () => {
    // (The exit code is not compared: the 20.10 docker CLI's create exits 1 here, berth 125 as run.)
    const r = sbs.both(['create', '--name', 'a', '--network', 'none', 'busybox', 'true']);
    assert.notEqual(r.b.status, 0);
    for (const out of [r.d.stderr, r.b.stderr]) assert.match(out, /Invalid container name \(a\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
  });

  it('inspect: on a user network, the endpoint has no address until started, and none again once stopped', () => {
    sbs.same(['network', 'create', 'cfgnet']);
    // What of each endpoint is set (the values are each engine's own).
    const shape = () => {
      const { d, b } = sbs.both(['inspect', '-f', '{{json .NetworkSettings}}', 'netc']);
      const of = (out: string) => {
        const ns = JSON.parse(out) as { SandboxKey: string; Networks: Record<string, Record<string, unknown>> };
        const set = (v: unknown) => (Array.isArray(v) ? v.length : v ? 'set' : '');
        return [`key=${set(ns.SandboxKey)}`, ...Object.entries(ns.Networks).map(([k, e]) => `${k} ${['IPAddress', 'Gateway', 'IPPrefixLen', 'MacAddress', 'NetworkID', 'EndpointID', 'Aliases', 'IPAMConfig'].map((f) => `${f}=${set(e[f])}`).join(' ')}`)];
      };
      assert.deepEqual(of(b.stdout), of(d.stdout));
    };
    sbs.same(['create', '--name', 'netc', '--network', 'cfgnet', 'busybox', 'sleep', '60']);
    shape();
    sbs.same(['start', 'netc']);
    shape();
    sbs.same(['kill', 'netc']);
    sbs.same(['wait', 'netc']);
    shape();
    sbs.same(['rm', 'netc']);
    sbs.same(['network', 'rm', 'cfgnet']);
  });

  // The process environment.
  const hostnames = (s: string) => s.replace(/^HOSTNAME=[0-9a-f]{12}$/m, 'HOSTNAME=<id>');
  const run = (flags: string[], ...cmd: string[]) => sbs.same(['run', '--rm', '--network', 'none', ...flags, 'busybox', ...cmd], { normalize: hostnames });

  it('run: env (HOME from the user\'s passwd entry, / without one; HOSTNAME; TERM with -t) and id', () => {
    run([], 'sh', '-c', 'env | sort; id');
    run(['-u', '1234'], 'sh', '-c', 'env | sort; id');
    run(['-u', 'nobody'], 'sh', '-c', 'env | sort; id');
    run(['-t'], 'sh', '-c', 'env | sort');
    run(['-e', 'UNSET_IN_BOTH', '-e', 'HOME=/h', '-e', 'A=1', '-e', 'A=2'], 'sh', '-c', 'env | sort');
  });
  it('run: -u UID:GID, --group-add (names, gids, numbers): the primary gid first in the groups', () => {
    run(['-u', '1234:55'], 'id');
    run(['--group-add', '10', '--group-add', 'nogroup'], 'id');
    run(['-u', '1234', '--group-add', '10'], 'sh', '-c', 'id; grep Groups /proc/self/status');
    const r = sbs.same(['run', '--rm', '--network', 'none', '--group-add', 'nosuchgroup', 'busybox', 'id']);
    assert.match(r.b.stderr, /Unable to find group nosuchgroup: no matching entries in group file/);
  });
  it('run: limits as /proc and the cgroup show them (-m: swap twice the memory, --ulimit)', () => {
    run(['-m', '64m'], 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
    run(['-m', '64m', '--memory-swap', '100m'], 'cat', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
    run(['--ulimit', 'nofile=100:200'], 'sh', '-c', 'ulimit -n; grep -i "open files" /proc/self/limits');
  });
  it('run: hostname and the /etc files (-h, --dns*, --add-host; the host\'s with --network host)', () => {
    run(['-h', 'foo'], 'sh', '-c', 'hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf');
    run(['-h', 'a.b.c'], 'sh', '-c', 'hostname; hostname -d');
    run(['--dns', '1.2.3.4', '--dns-search', 'ex.com', '--dns-option', 'ndots:2', '--add-host', 'foo:5.6.7.8'], 'sh', '-c', 'cat /etc/resolv.conf; grep foo /etc/hosts');
    sbs.same(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'hostname; env | grep HOSTNAME; cat /etc/hostname /etc/hosts /etc/resolv.conf']);
    sbs.same(['run', '--rm', '--network', 'host', '--add-host', 'x:1.2.3.4', 'busybox', 'cat', '/etc/hosts']);
  });
  it('run: -w made when missing, --read-only with --tmpfs', () => {
    run(['-w', '/new/dir'], 'pwd');
    run(['--read-only', '--tmpfs', '/t'], 'sh', '-c', 'touch /t/x && echo ok; touch /y 2>&1; grep " /t " /proc/mounts');
  });
  it('run: -v of a missing host directory makes it; --mount of a missing source is refused', () => {
    for (const dir of ['d', 'b']) assert.ok(!existsSync(join(sbs.dir, 'missing', dir)));
    // (One path each: the first engine to run would make the other's.)
    const d = sbs.docker(['run', '--rm', '--network', 'none', '-v', `${join(sbs.dir, 'missing', 'd')}:/x`, 'busybox', 'ls', '-la', '/x']);
    const b = sbs.berth(['run', '--rm', '--network', 'none', '-v', `${join(sbs.dir, 'missing', 'b')}:/x`, 'busybox', 'ls', '-la', '/x']);
    assert.equal(b.status, d.status, b.stderr);
    assert.equal(normalizeIds(b.stdout).replace(/\d\d:\d\d|[A-Z][a-z]{2} +\d+/g, ''), normalizeIds(d.stdout).replace(/\d\d:\d\d|[A-Z][a-z]{2} +\d+/g, ''));
    assert.ok(existsSync(join(sbs.dir, 'missing', 'b')));
    const m = join(sbs.dir, 'missing', 'm');
    const r = sbs.same(['run', '--rm', '--network', 'none', '--mount', `type=bind,source=${m},target=/x`, 'busybox', 'true']);
    assert.match(r.d.stderr, /invalid mount config for type "bind": bind source path does not exist/);
    assert.match(r.b.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${m}`));
    rmSync(join(sbs.dir, 'missing'), { recursive: true, force: true });
  });
  it('run: -v ./dir binds the directory under the CLI\'s own (the docker 28 CLI makes it absolute; this harness\'s 20.10 CLI does not, so it gets the absolute path)', () => {
    const d = sbs.docker(['run', '--rm', '--network', 'none', '-v', `${bindDir}:/x`, 'busybox', 'cat', '/x/f']);
    const b = sbs.berth(['run', '--rm', '--network', 'none', '-v', './bind:/x', 'busybox', 'cat', '/x/f'], { cwd: sbs.dir });
    assert.equal(b.status, d.status, b.stderr);
    assert.equal(b.stdout, d.stdout);
  });

  it('exec: the container\'s environment and user; -u gives that user\'s ids, groups and HOME', () => {
    sbs.same(['run', '-d', '--name', 'ex', '--network', 'none', '--group-add', '10', '-e', 'A=1', 'busybox', 'sleep', '60'], { normalize: () => '' });
    const ex = (...a: string[]) => sbs.same(['exec', ...a], { normalize: hostnames });
    ex('ex', 'sh', '-c', 'env | sort; id');
    ex('-u', '1234', 'ex', 'sh', '-c', 'env | sort; id');
    ex('-u', 'nobody:nogroup', 'ex', 'sh', '-c', 'echo $HOME; id');
    ex('-e', 'A=2', '-e', 'B=3', 'ex', 'sh', '-c', 'env | sort');
    // In the order Docker gives it (PATH, HOSTNAME, TERM with -t, the Env, HOME last).
    ex('-t', 'ex', 'env');
    sbs.same(['rm', '-f', 'ex']);
    // A container with a terminal: an exec without one has no TERM.
    sbs.same(['run', '-dt', '--name', 'ext', '--network', 'none', 'busybox', 'sleep', '60'], { normalize: () => '' });
    ex('ext', 'env');
    ex('-t', 'ext', 'env');
    sbs.same(['rm', '-f', 'ext']);
  });

  it('refusals as dockerd\'s: with another container\'s network, a relative -w or --tmpfs, a bad -v mode, -e =x', () => {
    sbs.same(['run', '-d', '--name', 'peer0', '--network', 'none', 'busybox', 'sleep', '60'], { normalize: () => '' });
    const cases: [string[], RegExp][] = [
      [['-h', 'x', '--network', 'container:peer0'], /conflicting options: hostname and the network mode/],
      [['--dns', '1.1.1.1', '--network', 'container:peer0'], /conflicting options: dns and the network mode/],
      [['--add-host', 'a:1.2.3.4', '--network', 'container:peer0'], /conflicting options: custom host-to-IP mapping and the network mode/],
      [['-p', '80', '--network', 'container:peer0'], /conflicting options: port publishing and the container type network mode/],
      [['-w', 'rel', '--network', 'none'], /the working directory 'rel' is invalid, it needs to be an absolute path/],
      [['--tmpfs', 'rel', '--network', 'none'], /invalid mount path: 'rel' mount path must be absolute/],
      [['-v', '/x:/y:bogus', '--network', 'none'], /invalid mode: bogus/],
      [['-e', '=x', '--network', 'none'], /invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x/],
    ];
    for (const [flags, re] of cases) {
      const r = sbs.same(['run', '--rm', ...flags, 'busybox', 'true']);
      assert.match(r.d.stderr, re, `docker ${flags.join(' ')}`);
      assert.match(r.b.stderr, re, `berth ${flags.join(' ')}`);
    }
    // -p with none or the host's network: dockerd discards the ports and runs it.
    sbs.same(['run', '--rm', '--network', 'none', '-p', '80:80', 'busybox', 'echo', 'ran']);
    sbs.same(['rm', '-f', 'peer0']);
  });

  it('--network container:NAME: the other\'s hostname, NetworkMode by its id', () => {
    sbs.same(['run', '-d', '--name', 'peer1', '--network', 'none', 'busybox', 'sleep', '60'], { normalize: () => '' });
    sbs.same(['run', '--rm', '--network', 'container:peer1', 'busybox', 'sh', '-c', 'hostname; env | grep HOSTNAME']);
    sbs.same(['create', '--name', 'peer2', '--network', 'container:peer1', 'busybox', 'true']);
    // Created: its own hostname still; started: the other's (dockerd takes it at start).
    const f = '{{.HostConfig.NetworkMode}} {{.Config.Hostname}}';
    const shown = (run: SideBySide['docker']) => {
      const id = (n: string) => run(['inspect', '-f', '{{.Id}}', n]).stdout.trim();
      return run(['inspect', '-f', f, 'peer2']).stdout.replace(id('peer1'), '<peer>').replace(id('peer1').slice(0, 12), '<peer-host>').replace(id('peer2').slice(0, 12), '<own>');
    };
    assert.equal(shown(sbs.docker), 'container:<peer> <own>\n');
    assert.equal(shown(sbs.berth), shown(sbs.docker));
    sbs.same(['start', '-a', 'peer2']);
    assert.equal(shown(sbs.docker), 'container:<peer> <peer-host>\n');
    assert.equal(shown(sbs.berth), shown(sbs.docker));
    sbs.same(['rm', '-f', 'peer2', 'peer1']);
  });
});
