/** Terminals and attaching (`run -dt`, `run -di` + `attach`, detach keys, `start -a`, `exec -it`), names taken once, user namespaces. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

describe('berth containers: terminals, attach, names, user namespaces', { skip }, () => {
  const root = tmp('berth-attach-root-');
  const runroot = tmp('berth-attach-runroot-');
  const g = ['--root', root, '--runroot', runroot];
  const berth = (...args: string[]) => spawnSync(bin, [...g, ...args], { encoding: 'utf8', timeout: 60_000 });
  const started: number[] = [];
  /** An attach (or other long-running command) whose output is collected, with stdin piped. */
  function background(...args: string[]) {
    const p = spawn(bin, [...g, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    started.push(p.pid!);
    const o = { out: '', err: '', code: undefined as number | null | undefined, p };
    p.stdout.on('data', (d: Buffer) => (o.out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (o.err += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r((o.code = c))));
    return { o, exited };
  }
  // A deadline for a hang, generous on purpose: no speed limit.
  async function until(f: () => boolean, what: string, ms = 60_000) {
    const end = Date.now() + ms;
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* ended */
      }
    }
    for (const id of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    // The default network's bridge goes with the last container (and what a crash left).
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('run -dt: the monitor holds a terminal of the container; its output is logged', async () => {
    const r = berth('run', '-d', '-t', '--name', 'tty1', 'busybox', 'sh', '-c', 'tty; stty size; echo $TERM; exit 3');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(berth('wait', 'tty1').stdout, '3\n');
    assert.equal(berth('logs', 'tty1').stdout, '/dev/pts/0\r\n24 80\r\nxterm\r\n');
    assert.equal(berth('inspect', '--format', '{{.Config.Tty}}', 'tty1').stdout.trim(), 'true');
  });

  it('run -di, then attach: input in, stdout and stderr apart, the exit code out', async () => {
    assert.equal(berth('run', '-di', '--name', 'cat1', 'busybox', 'sh', '-c', 'while read l; do [ "$l" = quit ] && exit 7; echo got:$l; echo err:$l >&2; done').status, 0);
    const { o, exited } = background('attach', 'cat1');
    o.p.stdin.write('one\n');
    await until(() => o.out.includes('got:one') && o.err.includes('err:one'), 'the echo of the first line');
    o.p.stdin.write('two\nquit\n');
    assert.equal(await exited, 7);
    assert.equal(o.out, 'got:one\ngot:two\n');
    assert.equal(o.err, 'err:one\nerr:two\n');
    assert.match(berth('ps', '-a', '--filter', 'name=cat1').stdout, /Exited \(7\)/);
    // What was said before this attach is in the log, not lost.
    assert.equal(berth('logs', 'cat1').stdout, 'got:one\ngot:two\n');
  });

  it('detaches on the detach keys and leaves the container running; a stopped one cannot be attached', async () => {
    assert.equal(berth('run', '-dit', '--name', 'sh1', 'busybox', 'sh').status, 0);
    const { o, exited } = background('attach', '--detach-keys', 'ctrl-x,q', 'sh1');
    o.p.stdin.write('echo mark-$((20+22))\n');
    await until(() => o.out.includes('mark-42'), 'the shell to answer');
    o.p.stdin.write('\x18q');
    assert.equal(await exited, 0);
    assert.match(berth('ps', '--filter', 'name=sh1').stdout, /Up /);
    // A second attach sees what the shell says next, then its end.
    const again = background('attach', 'sh1');
    again.o.p.stdin.write('exit 5\n');
    assert.equal(await again.exited, 5);
    const r = berth('attach', 'sh1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /You cannot attach to a stopped container, start it first/);
    const bad = berth('attach', '--detach-keys', 'ctrl-xx', 'sh1');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid detach keys "ctrl-xx"/);
  });

  it("start -a runs a created container attached and exits with its code; -ai passes stdin", () => {
    assert.equal(berth('create', '--name', 'later', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 5').status, 0);
    const r = berth('start', '-a', 'later');
    assert.equal(r.status, 5);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(berth('create', '-i', '--name', 'reader', 'busybox', 'sh', '-c', 'read l; echo read:$l').status, 0);
    const i = spawnSync(bin, [...g, 'start', '-ai', 'reader'], { encoding: 'utf8', input: 'hello\n', timeout: 30_000 });
    assert.equal(i.stdout, 'read:hello\n');
    assert.equal(i.status, 0);
  });

  it('exec -it gives the process a terminal of the container', { skip: !existsSync('/usr/bin/script') ? 'script (util-linux) is not installed' : false }, () => {
    assert.equal(berth('run', '-d', '--name', 'ex1', 'busybox', 'sleep', '300').status, 0);
    const cmd = `"${bin}" --root "${root}" --runroot "${runroot}" exec -it ex1 sh -c 'echo t:$(tty):$TERM; exit 9'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 9);
    assert.match(r.stdout, /t:\/dev\/pts\/\d+:xterm\r?\n/);
    // -u by name, from the container's own /etc/passwd and /etc/group.
    // (Its primary group is also its supplementary one, as Docker sets it up.)
    assert.equal(berth('exec', '-u', 'nobody', 'ex1', 'id').stdout, 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
    assert.equal(berth('exec', '-u', 'root:tty', 'ex1', 'id', '-g').stdout, '5\n');
    const ghost = berth('exec', '-u', 'ghost', 'ex1', 'id');
    // dockerd's exec that cannot start: 126, the reason in the output stream.
    assert.equal(ghost.status, 126);
    assert.equal(ghost.stdout, 'unable to find user ghost: no matching entries in passwd file\r\n');
  });

  it('gives a name to one container only, also when several processes ask at once', async () => {
    const runs = [0, 1, 2, 3].map(() => background('create', '--name', 'same', 'busybox', 'true'));
    const codes = await Promise.all(runs.map((r) => r.exited));
    assert.deepEqual(codes.sort(), [0, 1, 1, 1], runs.map((r) => r.o.err).join(''));
    for (const r of runs.filter((r) => r.o.code === 1)) assert.match(r.o.err, /The container name "\/same" is already in use by container "[0-9a-f]{64}"/);
    assert.equal(berth('ps', '-a', '--filter', 'name=same', '-q').stdout.split('\n').filter(Boolean).length, 1);
    // Renamed, the old name is free again; removed, the new one is.
    assert.equal(berth('rename', 'same', 'other').status, 0);
    assert.equal(berth('create', '--name', 'same', 'busybox', 'true').status, 0);
    assert.equal(berth('rename', 'same', 'other').status, 1);
    assert.equal(berth('rm', 'other').status, 0);
    assert.equal(berth('rename', 'same', 'other').status, 0);
    assert.equal(berth('inspect', '--format', '{{.Name}}', 'other').stdout.trim(), '/other');
    assert.equal(berth('rm', 'other').status, 0);
  });

  it('--userns=remap: root of the container is an unprivileged range of the host, its files owned so, its commits not', () => {
    // The remapped root must be able to reach its bundle under the runroot.
    chmodSync(runroot, 0o711);
    chmodSync(root, 0o711);
    const r = berth('run', '--rm', '--userns=remap', '-v', 'remapvol:/data', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map; stat -c %u:%g /bin/busybox /; echo x > /data/f && stat -c %u /data/f; touch /new && echo wrote');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    assert.deepEqual(lines, ['0', '0 100000 65536', '0:0', '0:0', '0', 'wrote']);
    // Seen from the host: the process runs as 100000, and the volume's file is 100000's.
    assert.equal(berth('run', '-d', '--name', 'remapped', '--userns=remap', 'busybox', 'sleep', '300').status, 0);
    const pid = berth('inspect', '--format', '{{.State.Pid}}', 'remapped').stdout.trim();
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\t100000\t100000\t100000\t100000$/m);
    const vol = JSON.parse(berth('volume', 'inspect', 'remapvol').stdout)[0].Mountpoint as string;
    assert.equal(statSync(join(vol, 'f')).uid, 100000);
    assert.equal(berth('exec', 'remapped', 'sh', '-c', 'echo hi > /made-here').status, 0);
    assert.equal(berth('commit', 'remapped', 'remapped:1').status, 0);
    assert.equal(berth('run', '--rm', 'remapped:1', 'stat', '-c', '%u:%g', '/made-here').stdout, '0:0\n', 'the committed layer has the ids the container saw');
    const remappedId = berth('inspect', '--format', '{{.Id}}', 'remapped').stdout.trim();
    assert.equal(berth('rm', '-f', 'remapped').status, 0);
    // (Its mounts: other containers of this file may still be running, with their network
    // namespaces mounted under the runroot.)
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(remappedId), 'no mount of the container left');
    assert.equal(berth('volume', 'rm', 'remapvol').status, 0);
  });

  it('--userns: bad values and combinations, and an unreachable runroot, are one-line errors that leave nothing', () => {
    for (const [args, msg] of [
      [['--userns=bogus'], /invalid --userns "bogus" \(host or remap\)/],
      [['--userns=remap', '--network', 'host'], /cannot share the host's network namespace when user namespaces are enabled/],
      [['--userns=remap', '--privileged'], /privileged mode is incompatible with user namespaces/],
    ] as const) {
      const r = berth('run', '--rm', ...args, 'busybox', 'true');
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /^berth: [^\n]*\n\nRun 'berth run --help' for more information\n$/, 'one message, as docker run frames it');
    }
    const before = berth('ps', '-aq').stdout;
    const closed = tmp('berth-closed-runroot-');
    chmodSync(closed, 0o700);
    const r = spawnSync(bin, ['--root', root, '--runroot', closed, 'run', '--rm', '--userns=remap', 'busybox', 'true'], { encoding: 'utf8' });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--userns=remap: ".*" \(mode 0700\) does not let others search it/);
    assert.equal(berth('ps', '-aq').stdout, before, 'no container left');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(closed));
  });

  it('--mount: bind, volume (nocopy too) and tmpfs as Docker spells them; bad specs are one line', () => {
    const host = tmp('berth-mount-src-');
    writeFileSync(join(host, 'f'), 'from-host\n');
    const b = berth('run', '--rm', '--mount', `type=bind,source=${host},target=/h,readonly`, 'busybox', 'sh', '-c', 'cat /h/f; touch /h/x 2>/dev/null || echo ro');
    assert.equal(b.stdout, 'from-host\nro\n', b.stderr);
    const v = berth('run', '--rm', '--mount', 'type=volume,src=mvol,dst=/etc', 'busybox', 'ls', '/etc/passwd');
    assert.equal(v.stdout, '/etc/passwd\n', 'a new volume is seeded from the image');
    const n = berth('run', '--rm', '--mount', 'type=volume,source=emptyvol,target=/etc,volume-nocopy', 'busybox', 'sh', '-c', 'ls /etc/passwd 2>/dev/null || echo absent');
    assert.equal(n.status, 0, n.stderr);
    assert.equal(n.stdout, 'absent\n', 'volume-nocopy: not seeded');
    const t = berth('run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'stat -c %a /t; df -k /t | tail -1');
    assert.match(t.stdout, /^1770\n\S+\s+1024\s/, t.stderr);
    for (const [spec, msg] of [
      ['type=nfs,target=/x', /unknown mount type "nfs"/],
      ['type=bind,target=/x', /source is required for a bind mount/],
      ['type=volume,source=v', /target is required/],
      ['type=tmpfs,target=/x,source=y', /unexpected key "source" for a tmpfs mount/],
      [`type=bind,source=${host}/nope,target=/x`, /bind source path does not exist/],
    ] as const) {
      const e = berth('run', '--rm', '--mount', spec, 'busybox', 'true');
      assert.equal(e.status, 125, spec);
      assert.match(e.stderr, msg);
    }
    for (const vol of ['mvol', 'emptyvol']) assert.equal(berth('volume', 'rm', vol).status, 0);
    assert.equal(berth('volume', 'ls', '-q').stdout.includes('mvol'), false);
  });

  it('stats: CPU %, memory against its limit and pids from the cgroup, once or live', async () => {
    assert.equal(berth('run', '-d', '--name', 'busy', '-m', '64m', '--pids-limit', '10', 'busybox', 'sh', '-c', 'while :; do :; done').status, 0);
    const r = berth('stats', '--no-stream', '--format', 'json', 'busy');
    assert.equal(r.status, 0, r.stderr);
    const row = JSON.parse(r.stdout.trim()) as Record<string, string>;
    assert.equal(row.Name, 'busy');
    assert.match(row.MemUsage!, /^\d+(\.\d+)?(B|KiB|MiB) \/ 64MiB$/);
    assert.equal(row.PIDs, '1');
    assert.ok(Number(row.CPUPerc!.replace('%', '')) > 0, `a busy loop uses some CPU: ${row.CPUPerc}`);
    assert.match(berth('stats', '--no-stream', 'busy').stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n[0-9a-f]{12}\s+busy\s+/);
    // Live: a table again and again until stopped.
    const live = background('stats', 'busy');
    await until(() => (live.o.out.match(/CONTAINER ID/g) ?? []).length >= 2, 'two refreshes');
    live.o.p.kill('SIGTERM');
    await live.exited;
    assert.equal(berth('rm', '-f', 'busy').status, 0);
    const gone = berth('stats', '--no-stream', 'nosuch');
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /No such container: nosuch/);
  });

  it('--network none: only the loopback, and it is up (as Docker gives it)', () => {
    const r = berth('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; ip -o link show lo | grep -q "<LOOPBACK,UP" && echo up; ping -c1 -W2 127.0.0.1 >/dev/null && echo answers');
    assert.equal(r.stdout, 'lo\nup\nanswers\n', r.stderr);
  });
});
