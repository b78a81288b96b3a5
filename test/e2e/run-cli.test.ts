/** `berth run` as a user types it: an image's layers as the container's root, Docker's defaults. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp, waitUntil } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

describe('berth run', { skip }, () => {
  const root = tmp('berth-run-root-');
  const runroot = tmp('berth-run-runroot-');
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000 });
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    // The default network's bridge goes with the last container (and what a crash left).
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('runs --rm busybox echo hello and leaves nothing', () => {
    const r = berth('run', '--rm', 'busybox', 'echo', 'hello');
    assert.equal(r.stdout, 'hello\n', r.stderr);
    assert.equal(r.status, 0);
    assert.equal(berth('ps', '-aq').stdout, '');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(runroot));
  });

  it("exits with the container's code, keeps it without --rm, and removes it with rm", () => {
    const r = berth('run', '--name', 'three', 'busybox', 'sh', '-c', 'echo said; echo warned >&2; exit 3');
    assert.equal(r.status, 3);
    assert.equal(r.stdout, 'said\n');
    assert.equal(r.stderr, 'warned\n');
    const logs = berth('logs', 'three');
    assert.equal(logs.stdout, 'said\n');
    assert.equal(logs.stderr, 'warned\n');
    assert.match(berth('ps', '-a').stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sh -c 'echo said;[^"]*"\s+.* ago\s+Exited \(3\) .* ago\s+three\n$/);
    assert.equal(berth('ps').stdout.split('\n').length, 2, 'ps without -a lists no exited container');
    const dup = berth('run', '--name', 'three', 'busybox', 'true');
    assert.equal(dup.status, 125);
    assert.match(dup.stderr, /The container name "\/three" is already in use/);
    const rmi = berth('rmi', 'busybox');
    assert.equal(rmi.status, 1);
    assert.match(rmi.stderr, /^Error response from daemon: conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}\n$/);
    assert.equal(berth('rm', 'three').stdout, 'three\n');
    assert.equal(berth('ps', '-aq').stdout, '');
  });

  it('gives the container a terminal with -t (through script(1) as the user\'s terminal)', { skip: !existsSync('/usr/bin/script') ? 'script (util-linux) is not installed' : false }, () => {
    const cmd = `"${bin}" --root "${root}" --runroot "${runroot}" run --rm -it busybox sh -c 'test -t 0 && test -t 1 && echo tty:$TERM:$(tty); exit 4'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 4);
    // A terminal of the container's own devpts: tty(1) finds it there.
    assert.match(r.stdout, /tty:xterm:\/dev\/pts\/0\r?\n/);
    const typed = spawnSync('script', ['-qec', `"${bin}" --root "${root}" --runroot "${runroot}" run --rm -it busybox sh`, '/dev/null'], { encoding: 'utf8', input: 'echo typed-$((6*7))\nexit 6\n', timeout: 30_000 });
    assert.equal(typed.status, 6);
    assert.match(typed.stdout, /typed-42/);
  });

  it('gives the container its own pid, uts and network namespaces and Docker-like defaults', () => {
    const r = berth('run', '--rm', '--network', 'none', '-h', 'boxy', '-e', 'GREETING=hi', '-w', '/tmp', 'busybox', 'sh', '-c', 'echo $$ $(hostname) $GREETING $(pwd); ls /sys/class/net; grep CapEff /proc/self/status');
    assert.equal(r.status, 0, r.stderr);
    const [first, net, caps] = r.stdout.trim().split('\n');
    assert.equal(first, '1 boxy hi /tmp');
    assert.equal(net, 'lo');
    assert.match(caps!, /CapEff:\s+00000000a80425fb/);
  });

  it('runs as a user given by name or uid, looked up in the image', () => {
    // (The primary group is also a supplementary one, as Docker sets a process up.)
    assert.equal(berth('run', '--rm', '-u', 'nobody', 'busybox', 'id').stdout, 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
    assert.equal(berth('run', '--rm', '-u', 'root:tty', 'busybox', 'id').stdout, 'uid=0(root) gid=5(tty) groups=5(tty)\n');
    // By uid, as Docker: the passwd entry's group, else gid 0.
    assert.equal(berth('run', '--rm', '-u', '65534', 'busybox', 'id').stdout, 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
    assert.equal(berth('run', '--rm', '-u', '1000', 'busybox', 'id').stdout, 'uid=1000 gid=0(root) groups=0(root)\n');
    const ghost = berth('run', '--rm', '-u', 'ghost', 'busybox', 'id');
    assert.equal(ghost.status, 125);
    assert.equal(ghost.stderr, `berth: Error response from daemon: unable to find user ghost: no matching entries in passwd file\n\nRun 'berth run --help' for more information\n`);
    assert.equal(berth('ps', '-aq').stdout, '');
  });

  it('keeps two containers of one image apart, and the image unchanged', () => {
    assert.equal(berth('run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo mine > /etc/written').status, 0);
    const other = berth('run', '--rm', 'busybox', 'sh', '-c', 'cat /etc/written 2>&1 || echo absent');
    assert.match(other.stdout, /absent/);
    berth('rm', 'writer');
  });

  it('applies --memory, --cpus and --pids-limit to the cgroup', () => {
    const r = berth('run', '--rm', '-m', '64m', '--cpus', '0.5', '--pids-limit', '20', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${64 * 1024 * 1024}\n50000\n20\n`);
  });

  it('reports 127, 125 and bad values with one message, as docker run frames it', () => {
    const nf = berth('run', '--rm', 'busybox', 'no-such-command');
    assert.equal(nf.status, 127);
    assert.equal(nf.stderr, `berth: Error response from daemon: failed to create shim task: OCI runtime create failed: berth-runtime create failed: unable to start container process: exec: "no-such-command": executable file not found in $PATH: unknown\n\nRun 'berth run --help' for more information\n`);
    // An image not here is pulled first (--pull missing, Docker's default); the tests' config
    // (scripts/test.mjs) lets docker.io be pulled from mirrors only, and names none.
    const ni = berth('run', '--rm', 'no-such-image', 'true');
    assert.equal(ni.status, 125);
    assert.match(ni.stderr, /^Unable to find image 'no-such-image:latest' locally\nberth: Error response from daemon: (pull access denied for no-such-image|no-such-image:latest: registry docker\.io is set to mirrors only)/);
    const id = berth('run', '--rm', 'a'.repeat(64), 'true');
    assert.equal(id.status, 125);
    assert.match(id.stderr, new RegExp(`^berth: Error response from daemon: No such image: ${'a'.repeat(64)}`));
    const mem = berth('run', '--rm', '-m', 'lots', 'busybox', 'true');
    assert.equal(mem.status, 125);
    assert.match(mem.stderr, /invalid memory "lots"/);
    const cpu = berth('run', '--rm', '--cpus', '-1', 'busybox', 'true');
    assert.equal(cpu.status, 125);
    assert.equal(berth('ps', '-aq').stdout, '');
  });
});

describe('berth run -d: detached containers under their monitor', { skip }, () => {
  const root = tmp('berth-detach-root-');
  const runroot = tmp('berth-detach-runroot-');
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000 });
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    // The default network's bridge goes with the last container (and what a crash left).
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('runs detached, logs with stream and time, execs, stops with the stop signal', () => {
    const r = berth('run', '-d', '--name', 'svc', 'busybox', 'sh', '-c', 'echo started; echo warn >&2; trap "echo bye; exit 7" TERM; while :; do sleep 0.1; done');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    assert.match(berth('ps').stdout, /\bUp .*\bsvc\n$/);
    waitUntil('"started" in the logs', () => berth('logs', 'svc').stdout.includes('started'));
    const logs = berth('logs', '-t', 'svc');
    assert.match(logs.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started\n$/);
    assert.match(logs.stderr, /Z warn\n$/);
    const ex = berth('exec', 'svc', 'sh', '-c', 'echo in $(hostname); exit 4');
    assert.equal(ex.status, 4);
    assert.match(ex.stdout, /^in [0-9a-f]{12}\n$/);
    const st = berth('stop', '-t', '5', 'svc');
    assert.equal(st.status, 0, st.stderr);
    assert.match(berth('ps', '-a').stdout, /Exited \(7\) .* ago\s+svc\n$/);
    assert.equal(berth('logs', '-n', '1', 'svc').stdout, 'bye\n');
    assert.equal(berth('wait', 'svc').stdout, '7\n');
    const exStopped = berth('exec', 'svc', 'true');
    assert.equal(exStopped.status, 1);
    assert.match(exStopped.stderr, /is not running/);
  });

  it('kills after the timeout when the stop signal is ignored, and follows logs until the end', () => {
    // The shell survives TERM (its trap says so in the log) and is then killed: TERM came first,
    // KILL only after it had been ignored (checked by what happened, not by the clock).
    berth('run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'trap "echo term" TERM; echo a; sleep 0.3; echo b; while :; do sleep 0.1; done');
    waitUntil('"b" in the logs', () => berth('logs', 'stubborn').stdout === 'a\nb\n');
    assert.equal(berth('stop', '-t', '3', 'stubborn').status, 0);
    assert.match(berth('ps', '-a').stdout, /Exited \(137\) .*stubborn\n/);
    assert.equal(berth('logs', '-f', 'stubborn').stdout, 'a\nb\nterm\n');
    const rm = berth('rm', 'stubborn');
    assert.equal(rm.status, 0);
  });

  it('restarts by its policy: on-failure:N counts, always until stopped', () => {
    berth('run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3');
    waitUntil('the second restart to have exited', () => berth('inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'flaky').stdout === '2 exited\n');
    assert.equal(berth('inspect', '--format', '{{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}', 'flaky').stdout, '2 3 on-failure\n');
    assert.equal(berth('logs', 'flaky').stdout, 'run\nrun\nrun\n');
    berth('run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2');
    waitUntil('two restarts', () => Number(berth('inspect', '--format', '{{.RestartCount}}', 'always').stdout) >= 2);
    assert.ok(Number(berth('inspect', '--format', '{{.RestartCount}}', 'always').stdout) >= 2);
    assert.equal(berth('stop', 'always').status, 0);
    const n = berth('inspect', '--format', '{{.RestartCount}}', 'always').stdout;
    spawnSync('sleep', ['1.5']); // a window for a wrong restart to show; the check holds for any length
    assert.equal(berth('inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'always').stdout, `${n.trim()} exited\n`, 'a stopped container is not restarted');
    const bad = berth('run', '-d', '--restart', 'sometimes', 'busybox', 'true');
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /invalid restart policy "sometimes"/);
    berth('rm', '-f', 'flaky', 'always');
  });

  it('runs health checks: starting, healthy, then unhealthy after the retries', () => {
    // The test, not the clock, turns the check from passing to failing (exec rm).
    const r = berth('run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sh', '-c', 'touch /tmp/ok; sleep 60');
    assert.equal(r.status, 0, r.stderr);
    const status = () => berth('inspect', '--format', '{{.State.Health.Status}}', 'hc').stdout.trim();
    assert.match(status(), /^(starting|healthy)$/);
    waitUntil('healthy', () => status() === 'healthy');
    assert.match(berth('ps', '--format', '{{.Status}}').stdout, /\(healthy\)/);
    assert.equal(berth('exec', 'hc', 'rm', '/tmp/ok').status, 0);
    waitUntil('unhealthy', () => status() === 'unhealthy');
    assert.match(berth('ps', '--format', '{{.Status}}').stdout, /\(unhealthy\)/);
    const bad = berth('run', '-d', '--health-cmd', 'true', '--health-interval', 'often', 'busybox', 'true');
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /invalid argument "often" for "--health-interval" flag/);
    berth('rm', '-f', 'hc');
  });

  it('tells the truth when the monitor is gone (as after a reboot)', () => {
    const id = berth('run', '-d', 'busybox', 'sleep', '60').stdout.trim();
    const rec = JSON.parse(readFileSync(join(root, 'metadata', 'containers', `${id}.json`), 'utf8'));
    assert.match(berth('ps').stdout, /Up /);
    process.kill(rec.State.MonitorPid, 'SIGKILL');
    process.kill(rec.State.Pid, 'SIGKILL');
    waitUntil('ps to show nothing running', () => berth('ps', '-q').stdout === '');
    assert.equal(berth('ps', '-q').stdout, '');
    assert.match(berth('ps', '-a').stdout, /Exited \(255\)/);
    const rmRunning = berth('run', '-d', '--name', 'busy', 'busybox', 'sleep', '60');
    assert.equal(rmRunning.status, 0);
    const refused = berth('rm', 'busy');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^Error response from daemon: You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove\n$/);
    assert.equal(berth('rm', '-f', 'busy').status, 0);
  });
});

describe('container lifecycle commands and run options', { skip }, () => {
  const root = tmp('berth-life-root-');
  const runroot = tmp('berth-life-runroot-');
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000 });
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    // The default network's bridge goes with the last container (and what a crash left).
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('create, start, top, diff, pause, commit, export, rename, inspect, rm', () => {
    const id = berth('create', '--name', 'life', 'busybox', 'sh', '-c', 'echo hi > /new; rm /etc/group; trap "exit 0" TERM; while :; do sleep 0.1; done').stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(berth('ps', '-a').stdout, /Created\s+life\n/);
    assert.equal(berth('start', 'life').status, 0);
    waitUntil('/new in the diff', () => berth('diff', 'life').stdout.includes('/new'));
    assert.equal(berth('diff', 'life').stdout, 'C /etc\nD /etc/group\nA /new\n');
    // Docker's top: the host's ps -ef columns, host pids.
    assert.match(berth('top', 'life').stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n(.*\n)*root\s+\d+\s+\d+\s+.*\ssh -c echo hi/);
    assert.equal(berth('pause', 'life').status, 0);
    let unpaused: ReturnType<typeof berth> | undefined;
    try {
      const frozen = readFileSync(join('/sys/fs/cgroup/freezer/berth', id, 'freezer.state'), 'utf8').trim();
      assert.equal(frozen, 'FROZEN');
    } finally {
      unpaused = berth('unpause', 'life');
    }
    assert.equal(unpaused.status, 0);
    const img = berth('commit', '-m', 'with new', '-c', 'CMD ["cat", "/new"]', 'life', 'life:snap');
    assert.equal(img.status, 0, img.stderr);
    assert.equal(berth('run', '--rm', 'life:snap').stdout, 'hi\n');
    // Created by the container's command (dockerd's history row of a commit), truncated as docker does.
    assert.match(berth('history', 'life:snap').stdout.split('\n')[1]!, /sh -c echo hi > \/new; rm \/etc\/group; trap "e…\s+\S+\s+with new$/);
    const exp = spawnSync('sh', ['-c', `"${bin}" --root "${root}" --runroot "${runroot}" export life | tar -t`], { encoding: 'utf8' });
    assert.ok(exp.stdout.split('\n').includes('new'));
    assert.ok(!exp.stdout.split('\n').includes('etc/group'));
    assert.equal(berth('rename', 'life', 'life2').status, 0);
    assert.equal(berth('inspect', '--format', '{{.Name}} {{.State.Status}} {{.State.Running}}', 'life2').stdout, '/life2 running true\n');
    assert.equal(berth('stop', 'life2').status, 0);
    assert.equal(berth('container', 'prune', '-f').status, 0);
    assert.equal(berth('ps', '-aq').stdout, '');
  });

  it('--init reaps zombies and forwards the stop signal', () => {
    try {
      berth('run', '-d', '--name', 'noinit', 'busybox', 'sh', '-c', '(sleep 0.1 &); exec sleep 30');
      berth('run', '-d', '--init', '--name', 'withinit', 'busybox', 'sh', '-c', '(sleep 0.1 &); exec sleep 30');
      // The orphan's end is waited for (a zombie without init; gone, reaped, with it), not timed.
      waitUntil('the orphan to end as a zombie', () => /Z\s+sleep/.test(berth('exec', 'noinit', 'ps', '-o', 'stat,comm').stdout));
      const sleeps = (ps: string) => ps.split('\n').filter((l) => /\ssleep$/.test(l)).length;
      waitUntil('init to reap the orphan', () => {
        // sh has exec'd sleep 30 and no other sleep (running or a zombie) is left.
        const ps = berth('exec', 'withinit', 'ps', '-o', 'pid,stat,comm').stdout;
        return sleeps(ps) === 1 && !/\ssh$/m.test(ps);
      });
      const ps = berth('exec', 'withinit', 'ps', '-o', 'pid,stat,comm').stdout;
      assert.match(ps, /^\s*PID\s+STAT\s+COMMAND\n\s+1\s+S\s+init\n/);
      assert.doesNotMatch(ps, /Z/);
      // Exit 143 is death by SIGTERM: init passed it on (a timeout would have ended in SIGKILL, 137).
      assert.equal(berth('stop', '-t', '5', 'withinit').status, 0);
      assert.match(berth('ps', '-a').stdout, /Exited \(143\).*withinit/);
    } finally {
      berth('rm', '-f', 'noinit', 'withinit');
    }
  });

  it('bind mounts, tmpfs, capabilities, ulimits and no-new-privileges', () => {
    const dir = tmp('berth-vol-');
    writeFileSync(join(dir, 'data.txt'), 'from the host\n');
    const r = berth('run', '--rm', '-v', `${dir}:/data:ro`, '--tmpfs', '/scratch', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--ulimit', 'nofile=100:200', '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', 'cat /data/data.txt; touch /data/x 2>&1 | grep -c Read-only; echo x > /scratch/y && cat /scratch/y; grep -E "CapEff|NoNewPrivs" /proc/self/status; ulimit -n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'from the host\n1\nx\nCapEff:\t0000000000001000\nNoNewPrivs:\t1\n100\n');
    const w = berth('run', '--rm', '-v', `${dir}:/data`, 'busybox', 'sh', '-c', 'echo written > /data/out.txt');
    assert.equal(w.status, 0);
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'written\n');
  });

  it('confines containers with a default seccomp profile, a given one, or none', () => {
    const d = berth('run', '--rm', 'busybox', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status; hostname foo 2>&1; echo done');
    assert.equal(d.stdout, 'Seccomp:\t2\nhostname: sethostname: Operation not permitted\ndone\n');
    assert.equal(berth('run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', '^Seccomp:', '/proc/self/status').stdout, 'Seccomp:\t0\n');
    const dir = tmp('berth-seccomp-');
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    assert.match(berth('run', '--rm', '--security-opt', `seccomp=${join(dir, 'p.json')}`, 'busybox', 'sh', '-c', 'mkdir /x 2>&1').stdout, /Permission denied/);
    writeFileSync(join(dir, 'bad.json'), '{"defaultAction": "SCMP_ACT_SOMETIMES"}');
    const bad = berth('run', '--rm', '--security-opt', `seccomp=${join(dir, 'bad.json')}`, 'busybox', 'true');
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_SOMETIMES"/);
  });

  it('refuses bad options with one line and leaves nothing', () => {
    const cases: [string[], RegExp][] = [
      // (A -v bind's missing source is made, as Docker makes it; a --mount bind's is refused.)
      [['--mount', 'type=bind,source=/no/such/dir,target=/x'], /invalid mount config for type "bind": bind source path does not exist: \/no\/such\/dir/],
      [['-v', 'bad*name:/x'], /invalid characters for a local volume name/],
      [['-v', '/a:relative'], /invalid mode: relative/],
      [['--ulimit', 'nofile=10:5'], /soft limit 10 is above the hard limit 5/],
      [['--cap-add', 'NOT_A_CAP'], /unknown capability: "NOT_A_CAP"/],
      [['--security-opt', 'apparmor=x'], /invalid --security-opt/],
      [['--memory-swap', '1m', '-m', '64m'], /memoryswap limit should be larger than memory limit/],
    ];
    for (const [opts, re] of cases) {
      const r = berth('run', '--rm', ...opts, 'busybox', 'true');
      assert.equal(r.status, 125, `${opts.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /^berth: [^\n]*\n\nRun 'berth run --help' for more information\n$/, 'one message, as docker run frames it');
    }
    assert.equal(berth('ps', '-aq').stdout, '');
  });
});

describe('volumes', { skip }, () => {
  const root = tmp('berth-vol-root-');
  const runroot = tmp('berth-vol-runroot-');
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000 });
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', '-v', id);
    // The default network's bridge goes with the last container (and what a crash left).
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('keeps data across containers, seeds a new volume from the image, and lists, inspects, removes', () => {
    assert.equal(berth('volume', 'create', 'data').stdout, 'data\n');
    assert.equal(berth('run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/f').status, 0);
    assert.equal(berth('run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f').stdout, 'persisted\n');
    const ro = berth('run', '--rm', '-v', 'data:/data:ro', 'busybox', 'sh', '-c', 'echo x > /data/g');
    assert.notEqual(ro.status, 0);
    // A new volume on a non-empty image path starts with the image's files there.
    assert.match(berth('run', '--rm', '-v', 'etc-copy:/etc', 'busybox', 'cat', '/etc/passwd').stdout, /^root:x:0:0/);
    const ins = JSON.parse(berth('volume', 'inspect', 'etc-copy').stdout)[0];
    assert.equal(ins.Name, 'etc-copy');
    assert.ok(readFileSync(join(ins.Mountpoint, 'passwd'), 'utf8').startsWith('root:'));
    assert.match(berth('volume', 'ls').stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+data\nlocal\s+etc-copy\n$/);
  });

  it('refuses to remove a volume in use; rm -v removes anonymous volumes; --volumes-from shares them', () => {
    assert.equal(berth('run', '--name', 'holder', '-v', 'data:/data', '-v', '/scratch', 'busybox', 'sh', '-c', 'echo s > /scratch/s').status, 0);
    const inUse = berth('volume', 'rm', 'data');
    assert.equal(inUse.status, 1);
    assert.match(inUse.stderr, /^Error response from daemon: remove data: volume is in use - \[[0-9a-f]{64}\]\n$/);
    assert.equal(berth('run', '--rm', '--volumes-from', 'holder', 'busybox', 'cat', '/scratch/s', '/data/f').stdout, 's\npersisted\n');
    const before = berth('volume', 'ls', '-q').stdout.split('\n').filter(Boolean).length;
    assert.equal(berth('rm', '-v', 'holder').status, 0);
    const after = berth('volume', 'ls', '-q').stdout.split('\n').filter(Boolean);
    assert.equal(after.length, before - 1, 'the anonymous volume went with the container');
    assert.ok(after.includes('data'), 'the named volume stays');
    assert.equal(berth('volume', 'rm', 'data', 'etc-copy').status, 0);
    const bad = berth('volume', 'create', 'bad name');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid characters for a local volume name/);
    const missing = berth('volume', 'inspect', 'nope');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no such volume/);
  });
});

describe('devices, block I/O limits, update and ps filters', { skip }, () => {
  const root = tmp('berth-dev-root-');
  const runroot = tmp('berth-dev-runroot-');
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000 });
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', '-v', id);
    // The default network's bridge goes with the last container (and what a crash left).
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('passes a device in and throttles a block device in the cgroup', () => {
    const r = berth('run', '--rm', '--device', '/dev/null:/dev/mynull:rw', 'busybox', 'sh', '-c', 'ls -l /dev/mynull; echo x > /dev/mynull && echo wrote');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/mynull\nwrote\n$/);
    const disk = ['/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/xvda'].find((d) => existsSync(d));
    if (disk) {
      const t = berth('run', '--rm', '--device-read-bps', `${disk}:1mb`, '--device-write-iops', `${disk}:100`, 'busybox', 'cat', '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device', '/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device');
      assert.equal(t.status, 0, t.stderr);
      assert.match(t.stdout, /^\d+:\d+ 1048576\n\d+:\d+ 100\n$/);
    }
    const bad = berth('run', '--rm', '--device', '/dev/nosuch', 'busybox', 'true');
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /error gathering device information .*"\/dev\/nosuch"/);
  });

  it('copies files both ways with cp, also as tar streams', () => {
    assert.equal(berth('run', '-d', '--name', 'cpt', 'busybox', 'sleep', '30').status, 0);
    const host = tmp('berth-cp-');
    writeFileSync(join(host, 'h.txt'), 'from host\n');
    assert.equal(berth('cp', join(host, 'h.txt'), 'cpt:/tmp/').status, 0);
    assert.equal(berth('exec', 'cpt', 'cat', '/tmp/h.txt').stdout, 'from host\n');
    berth('exec', 'cpt', 'sh', '-c', 'echo made inside > /tmp/in.txt');
    assert.equal(berth('cp', 'cpt:/tmp/in.txt', host).status, 0);
    assert.equal(readFileSync(join(host, 'in.txt'), 'utf8'), 'made inside\n');
    const t = spawnSync('sh', ['-c', `"${bin}" --root "${root}" --runroot "${runroot}" cp cpt:/etc/passwd - | tar -t`], { encoding: 'utf8' });
    assert.equal(t.stdout, 'passwd\n');
    const put = spawnSync('sh', ['-c', `tar -C "${host}" -c h.txt | "${bin}" --root "${root}" --runroot "${runroot}" cp - cpt:/root`], { encoding: 'utf8' });
    assert.equal(put.status, 0, put.stderr);
    assert.equal(berth('exec', 'cpt', 'cat', '/root/h.txt').stdout, 'from host\n');
    const missing = berth('cp', 'cpt:/nope', host);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'Error: No such container:path: cpt:/nope\n');
    berth('rm', '-f', 'cpt');
  });

  it('updates the limits of a running container and filters ps', () => {
    assert.equal(berth('run', '-d', '--name', 'upd', '-l', 'tier=web', '-m', '64m', 'busybox', 'sleep', '30').status, 0);
    assert.equal(berth('update', '-m', '128m', '--pids-limit', '50', 'upd').status, 0);
    assert.equal(berth('exec', 'upd', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max').stdout, `${128 * 1024 * 1024}\n50\n`);
    assert.equal(berth('run', '--name', 'done', 'busybox', 'sh', '-c', 'exit 2').status, 2);
    assert.equal(berth('ps', '--filter', 'status=running', '--format', '{{.Names}}').stdout, 'upd\n');
    // exited= does not imply -a (Docker's: only status= does).
    assert.equal(berth('ps', '--filter', 'exited=2', '--format', '{{.Names}}').stdout, '');
    assert.equal(berth('ps', '-a', '--filter', 'exited=2', '--format', '{{.Names}}').stdout, 'done\n');
    assert.equal(berth('ps', '--filter', 'label=tier=web', '--format', '{{.Names}}').stdout, 'upd\n');
    assert.equal(berth('ps', '-a', '--filter', 'ancestor=busybox', '-q').stdout.split('\n').filter(Boolean).length, 2);
    const bad = berth('ps', '--filter', 'colour=red');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /Invalid filter 'colour'/);
    const nothing = berth('update', 'upd');
    assert.equal(nothing.status, 1);
  });
});
