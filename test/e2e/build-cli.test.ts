/**
 * `berth build` as a user types it: Dockerfiles built into images that run, the cache observed
 * from outside (a cache mount counts the RUNs that really ran), bad input with file:line and
 * nothing left behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';
import { tarOf } from '../tar-of.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

describe('berth build', { skip }, () => {
  const root = tmp('berth-build-root-');
  const runroot = tmp('berth-build-runroot-');
  const berth = (args: string[], input?: string | Buffer) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 120_000, input });
  const ok = (args: string[], input?: string | Buffer) => {
    const r = berth(args, input);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** A context directory with these files (a Dockerfile among them). */
  const context = (files: Record<string, string>) => {
    const dir = tmp('berth-build-ctx-');
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), c);
    }
    return dir;
  };
  const build = (dir: string, ...args: string[]) => ok(['build', '-q', ...args, dir]).trim();
  const config = (ref: string) => JSON.parse(ok(['image', 'inspect', ref, '--format', '{{json .Config}}'])) as Record<string, unknown>;
  const runIn = (ref: string, script: string) => ok(['run', '--rm', '--entrypoint', 'sh', ref, '-c', script]);
  /** How many times RUN steps counting into the cache mount `id` really ran. */
  const counter = (id: string) => {
    const mounts = join(root, 'buildcache', 'mounts');
    let n = 0;
    for (const d of existsSync(mounts) ? readdirSync(mounts) : []) {
      const f = join(mounts, d, id);
      if (existsSync(f)) n += readFileSync(f, 'utf8').split('\n').filter(Boolean).length;
    }
    return n;
  };
  const countRun = (id: string) => `RUN --mount=type=cache,target=/count,id=${id} echo ran >> /count/${id}`;
  /** Nothing of a build is left: no snapshot, bundle, runtime state, mount or cgroup. */
  const assertNothingLeft = () => {
    const snaps = join(root, 'snapshots', 'overlay', 'snapshots');
    assert.deepEqual(existsSync(snaps) ? readdirSync(snaps) : [], [], 'no snapshot left');
    const bundles = join(runroot, 'build');
    assert.deepEqual(existsSync(bundles) ? readdirSync(bundles) : [], [], 'no build bundle left');
    const state = join(runroot, 'runtime');
    assert.deepEqual(existsSync(state) ? readdirSync(state).filter((n) => n.startsWith('build-')) : [], [], 'no runtime state left');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(root), 'no mount left');
    for (const c of ['memory', 'pids', 'cpu']) {
      const d = `/sys/fs/cgroup/${c}/berth`;
      if (existsSync(d)) assert.deepEqual(readdirSync(d).filter((n) => n.startsWith('build-')), [], `no ${c} cgroup left`);
    }
    assert.deepEqual(readdirSync(join(root, 'tmp')).filter((n) => !n.startsWith('.')), [], 'no temporary files left');
    // RUN steps on the bridge: their namespaces and veths go with them
    const netns = join(runroot, 'netns');
    assert.deepEqual(existsSync(netns) ? readdirSync(netns).filter((n) => n.startsWith('build-')) : [], [], 'no network namespace of a step left');
    assert.doesNotMatch(spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout, /^bvbuild-/m, 'no veth of a step left');
  };
  before(() => {
    ok(['starter']);
    mkdirSync(join(root, 'tmp'), { recursive: true });
  });
  after(() => {
    for (const id of berth(['ps', '-aq']).stdout.split('\n').filter(Boolean)) berth(['rm', '-f', id]);
    // The default network's bridge goes with the last container.
    berth(['network', 'prune', '-f']);
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth(['system', 'reset', '-f']);
    cleanupTmp();
  });

  it("sets every config field from its instruction, with Docker's history", () => {
    const dir = context({
      Dockerfile: [
        'FROM busybox',
        'ENV A=1 B="two words"',
        'ENV C $A-x',
        'LABEL org.example.a=b "with space"="v w"',
        'WORKDIR /srv',
        'WORKDIR app',
        'USER 1000:1000',
        'EXPOSE 80 53/udp 7000-7001',
        'VOLUME ["/data", "/logs"]',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD wget -q localhost || exit 1',
        'SHELL ["/bin/sh", "-ec"]',
        'ENTRYPOINT ["/bin/echo", "ep"]',
        'CMD echo $A',
      ].join('\n'),
    });
    const id = build(dir, '-t', 'cfg:1', '--label', 'from.cli=yes');
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const c = config('cfg:1');
    assert.deepEqual(c.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words', 'C=1-x']);
    assert.deepEqual(c.Labels, { 'org.example.a': 'b', 'with space': 'v w', 'from.cli': 'yes' });
    assert.equal(c.WorkingDir, '/srv/app');
    assert.equal(c.User, '1000:1000');
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '7000/tcp': {}, '7001/tcp': {} });
    assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5e9, Timeout: 2e9, Retries: 4 });
    assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
    assert.deepEqual(c.Entrypoint, ['/bin/echo', 'ep']);
    assert.deepEqual(c.Cmd, ['/bin/sh', '-ec', 'echo $A']);
    // The image runs: ENTRYPOINT with CMD as its arguments, as the user, in the workdir.
    assert.equal(ok(['run', '--rm', 'cfg:1']), 'ep /bin/sh -ec echo $A\n');
    assert.equal(runIn('cfg:1', 'id -u; pwd'), '1000\n/srv/app\n');
    const hist = ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'cfg:1']).trim().split('\n');
    assert.equal(hist[0], 'CMD ["/bin/sh" "-ec" "echo $A"]|0B');
    assert.ok(hist.includes('EXPOSE map[80/tcp:{} 53/udp:{} 7000/tcp:{} 7001/tcp:{}]|0B'), hist.join('\n'));
    assert.ok(hist.includes('ENV C=1-x|0B'));
    // WORKDIR made its directories in a layer of its own, which holds no file bytes (Docker's 0B).
    assert.ok(hist.includes('WORKDIR /srv|0B'), hist.join('\n'));
  });

  it('resets an inherited CMD when ENTRYPOINT is set, keeps one set in the same stage', () => {
    const base = context({ Dockerfile: 'FROM busybox\nCMD ["inherited"]\n' });
    build(base, '-t', 'ep-base:1');
    // image inspect shows dockerd's container.Config: an unset Cmd is null.
    assert.equal(config(build(context({ Dockerfile: 'FROM ep-base:1\nENTRYPOINT ["echo"]\n' }))).Cmd, null);
    assert.deepEqual(config(build(context({ Dockerfile: 'FROM ep-base:1\nCMD ["mine"]\nENTRYPOINT ["echo"]\n' }))).Cmd, ['mine']);
  });

  it("copies with Docker's rules: directory contents, trailing slashes, globs, --chown and --chmod, ADD extracts tars", () => {
    const dir = context({
      'a.txt': 'A\n',
      'b.txt': 'B\n',
      'c.md': 'C\n',
      'tree/x/y.txt': 'Y\n',
      'tree/top.txt': 'T\n',
      Dockerfile: [
        'FROM busybox',
        'COPY tree /t1',
        'COPY tree /t2/',
        'COPY a.txt /f1',
        'COPY a.txt /d1/',
        'COPY *.txt /g/',
        'COPY --chown=nobody:tty --chmod=640 c.md /owned/',
        'COPY a.txt b.txt relative/',
        'ADD pack.tar.gz /unpacked/',
        'COPY pack.tar.gz /kept/',
      ].join('\n'),
    });
    mkdirSync(join(dir, 'src', 'in'), { recursive: true });
    writeFileSync(join(dir, 'src', 'in', 'z.txt'), 'Z\n');
    spawnSync('tar', ['-czf', join(dir, 'pack.tar.gz'), '-C', join(dir, 'src'), 'in']);
    const id = build(dir);
    const out = runIn(id, 'cat /t1/top.txt /t1/x/y.txt /t2/x/y.txt /f1 /d1/a.txt /g/a.txt /g/b.txt /relative/b.txt /unpacked/in/z.txt; ls /g; stat -c "%U:%G %a" /owned/c.md; ls /kept');
    assert.equal(out, 'T\nY\nY\nA\nA\nA\nB\nB\nZ\na.txt\nb.txt\nnobody:tty 640\npack.tar.gz\n');
    // Several sources need a directory that ends with a slash.
    const bad = berth(['build', '-q', context({ 'a.txt': '', 'b.txt': '', Dockerfile: 'FROM busybox\nCOPY a.txt b.txt /dest\n' })]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a \//);
  });

  it('builds multi-stage: COPY --from a stage and an image, --target, and skips stages the target does not need', () => {
    const dir = context({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE} AS compile',
        'RUN echo artifact > /out.bin',
        'FROM $BASE AS broken',
        'RUN exit 7',
        'FROM busybox AS other',
        'RUN echo other > /other.txt',
        'FROM scratch',
        'COPY --from=compile /out.bin /bin/',
        'COPY --from=2 /other.txt /',
        'COPY --from=busybox /bin/busybox /bin/sh',
        'CMD ["/bin/sh", "-c", "cat /bin/out.bin /other.txt"]',
      ].join('\n'),
    });
    build(dir, '-t', 'multi:1');
    assert.equal(ok(['run', '--rm', 'multi:1']), 'artifact\nother\n');
    const layers = JSON.parse(ok(['image', 'inspect', 'multi:1', '--format', '{{json .RootFS.Layers}}'])) as string[];
    assert.equal(layers.length, 3, 'scratch + three COPY layers');
    // --target builds that stage (and what it needs) only.
    build(dir, '--target', 'other', '-t', 'multi:other');
    assert.equal(runIn('multi:other', 'cat /other.txt; ls /out.bin 2>&1 || true'), 'other\nls: /out.bin: No such file or directory\n');
    const failing = berth(['build', '-q', '--target', 'broken', dir]);
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /Dockerfile:5: RUN exit 7: .*returned a non-zero code: 7/);
    const unknown = berth(['build', '-q', '--target', 'nope', dir]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /target stage "nope" could not be found/);
  });

  it('builds independent stages at the same time', () => {
    // Each stage waits (at most 20 s) for the other's mark in a shared cache mount: only
    // stages that run together both finish.
    const id = `sync-${Date.now()}`;
    const wait = (me: string, other: string) => `RUN --mount=type=cache,target=/sync,id=${id} touch /sync/${me} && for i in $(seq 200); do [ -f /sync/${other} ] && exit 0; sleep 0.1; done; exit 1`;
    const dir = context({ Dockerfile: ['FROM busybox AS a', wait('a', 'b'), 'RUN echo a > /a', 'FROM busybox AS b', wait('b', 'a'), 'RUN echo b > /b', 'FROM busybox', 'COPY --from=a /a /', 'COPY --from=b /b /'].join('\n') });
    assert.equal(runIn(build(dir), 'cat /a /b'), 'a\nb\n');
  });

  it('takes an unchanged step from the cache (no container runs), and rebuilds from a changed file on', () => {
    const tag = `c${Date.now()}`;
    const dir = context({
      'first.txt': '1\n',
      'second.txt': '2\n',
      Dockerfile: ['FROM busybox', `${countRun(`${tag}-a`)}`, 'COPY first.txt /', `${countRun(`${tag}-b`)}`, 'COPY second.txt /', `${countRun(`${tag}-c`)}`, 'ENV DONE=1'].join('\n'),
    });
    const id1 = build(dir);
    assert.deepEqual([counter(`${tag}-a`), counter(`${tag}-b`), counter(`${tag}-c`)], [1, 1, 1]);
    // Nothing changed: every step from the cache, no RUN ran, the same image.
    const plain = berth(['build', '--progress', 'plain', dir]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal((plain.stderr.match(/CACHED/g) ?? []).length, 5, plain.stderr);
    // The tty view (BuildKit's): a header with the count, a line per step, CACHED on the right.
    const tty = berth(['build', '--progress', 'tty', dir]);
    assert.equal(tty.status, 0, tty.stderr);
    assert.match(tty.stderr, /\[\+\] Building \d+\.\ds \(7\/7\) FINISHED/);
    assert.equal((tty.stderr.split('FINISHED').pop()!.match(/CACHED/g) ?? []).length, 5, tty.stderr);
    assert.deepEqual([counter(`${tag}-a`), counter(`${tag}-b`), counter(`${tag}-c`)], [1, 1, 1]);
    assert.equal(build(dir), id1);
    // A new mtime with the same content is no change.
    utimesSync(join(dir, 'second.txt'), new Date(), new Date(Date.now() + 5000));
    assert.equal(build(dir), id1);
    assert.deepEqual([counter(`${tag}-a`), counter(`${tag}-b`), counter(`${tag}-c`)], [1, 1, 1]);
    // The second file changed: its COPY and what follows run again, nothing before.
    writeFileSync(join(dir, 'second.txt'), '2 changed\n');
    const id2 = build(dir);
    assert.notEqual(id2, id1);
    assert.deepEqual([counter(`${tag}-a`), counter(`${tag}-b`), counter(`${tag}-c`)], [1, 1, 2]);
    assert.equal(runIn(id2, 'cat /first.txt /second.txt'), '1\n2 changed\n');
    // --no-cache runs everything; builder prune forgets the cache.
    build(dir, '--no-cache');
    assert.deepEqual([counter(`${tag}-a`), counter(`${tag}-b`), counter(`${tag}-c`)], [2, 2, 3]);
    assert.match(ok(['builder', 'prune', '-f']), /Deleted build cache records: \d+/);
    build(dir);
    assert.equal(counter(`${tag}-a`), 1, 'the prune removed the cache mounts too; the RUN ran again');
  });

  it('rebuilds a COPY with a changed file by writing only that file: the unchanged ones are linked from the layer before', () => {
    const dir = context({ 'tree/same.txt': 'same\n', 'tree/edit.txt': 'before\n', Dockerfile: 'FROM busybox\nCOPY tree/ /tree/\n' });
    build(dir);
    writeFileSync(join(dir, 'tree', 'edit.txt'), 'after\n');
    const id = build(dir);
    // Link counts as the layers on disk have them: the unchanged file is one inode in both layers.
    assert.equal(runIn(id, 'cat /tree/same.txt /tree/edit.txt; stat -c "%h %a %U" /tree/same.txt /tree/edit.txt'), 'same\nafter\n2 644 root\n1 644 root\n');
    // A changed mode is a change too: written again, not linked.
    spawnSync('chmod', ['600', join(dir, 'tree', 'same.txt')]);
    assert.equal(runIn(build(dir), 'stat -c "%h %a" /tree/same.txt'), '1 600\n');
  });

  it("leaves out what .dockerignore excludes, with Docker's matching", () => {
    const dir = context({
      '.dockerignore': '*.log\nsecret*\n**/*.tmp\nnode_modules\n!node_modules/keep.js\n',
      'app.js': 'app',
      'debug.log': 'x',
      'sub/inner.log': 'stays (only the root is matched by *.log)',
      'sub/x.tmp': 'x',
      'secret.key': 'x',
      'node_modules/dep.js': 'x',
      'node_modules/keep.js': 'keep',
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
    });
    const out = runIn(build(dir), 'cd /ctx && find . -type f | sort');
    assert.equal(out, './.dockerignore\n./Dockerfile\n./app.js\n./node_modules/keep.js\n./sub/inner.log\n');
    const r = berth(['build', '-q', context({ '.dockerignore': 'secret.key\n', 'secret.key': 'x', Dockerfile: 'FROM busybox\nCOPY secret.key /\n' })]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Dockerfile:2: COPY "secret.key": file not found in build context or excluded by .dockerignore/);
  });

  it('scopes ARGs as Docker does: global for FROM, redeclared in a stage, --build-arg over defaults', () => {
    const dir = context({
      Dockerfile: ['ARG TAG=latest', 'ARG GLOBAL=g', 'FROM busybox:${TAG}', 'ARG GLOBAL', 'ARG WITH_DEFAULT=dflt', 'ARG UNSET', 'ARG TARGETARCH', 'ENV FROM_ARG=${WITH_DEFAULT}', 'RUN echo "$GLOBAL $WITH_DEFAULT ${UNSET:-none}" > /args && echo "$TARGETARCH" > /arch'].join('\n'),
    });
    const id = build(dir);
    assert.equal(runIn(id, 'cat /args; echo $FROM_ARG; echo ${GLOBAL:-not-in-the-image}'), 'g dflt none\ndflt\nnot-in-the-image\n');
    assert.match(runIn(id, 'cat /arch'), /^(amd64|arm64|[a-z0-9]+)\n$/);
    const r = berth(['build', '--progress', 'plain', '--build-arg', 'WITH_DEFAULT=given', '--build-arg', 'UNSET=set', '--build-arg', 'TAG=latest', '--build-arg', 'NOBODY=x', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /One or more build-args \[NOBODY\] were not consumed/);
    assert.doesNotMatch(r.stderr, /\[TAG\]/);
    const id2 = /writing image (sha256:[0-9a-f]+)/.exec(r.stderr)![1]!;
    assert.equal(runIn(id2, 'cat /args; echo $FROM_ARG'), 'g given set\ngiven\n');
  });

  it('runs ONBUILD triggers when the image is used as a base, and does not pass them on', () => {
    build(context({ 'f.txt': 'from the child context\n', Dockerfile: 'FROM busybox\nONBUILD COPY f.txt /onbuild.txt\nONBUILD RUN echo triggered > /trig\n' }), '-t', 'onbuild-base:1');
    assert.deepEqual(config('onbuild-base:1').OnBuild, ['COPY f.txt /onbuild.txt', 'RUN echo triggered > /trig']);
    const child = build(context({ 'f.txt': 'child file\n', Dockerfile: 'FROM onbuild-base:1\nRUN cat /trig /onbuild.txt > /both\n' }));
    assert.equal(runIn(child, 'cat /both'), 'triggered\nchild file\n');
    assert.equal(config(child).OnBuild, null);
  });

  it('runs RUN heredocs and writes COPY heredocs (variables expanded unless the marker is quoted)', () => {
    const dir = context({
      Dockerfile: ['FROM busybox', 'ENV WHO=world', 'RUN <<EOF', 'echo "hello $WHO" > /greeting', 'echo line2 >> /greeting', 'EOF', 'RUN cat <<-END > /tabbed', '\tindented', '\tEND', 'COPY <<CONF /etc/app.conf', 'who=${WHO}', 'CONF', "COPY <<'RAW' /raw", 'who=${WHO}', 'RAW', 'RUN <<SCRIPT', '#!/bin/sh -e', 'echo "script as $0" > /script-ran', 'SCRIPT'].join('\n'),
    });
    const out = runIn(build(dir), 'cat /greeting /tabbed /etc/app.conf /raw /script-ran; ls /dev/pipes 2>&1 || true');
    assert.equal(out, 'hello world\nline2\nindented\nwho=world\nwho=${WHO}\nscript as /dev/pipes/SCRIPT\nls: /dev/pipes: No such file or directory\n');
  });

  it('gives RUN mounts (secret, tmpfs, bind from the context) and --network none', () => {
    const secret = join(tmp('berth-secret-'), 'token');
    writeFileSync(secret, 's3cr3t');
    const dir = context({
      'data/in.txt': 'bound\n',
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=token cat /run/secrets/token > /seen-secret',
        'RUN --mount=type=tmpfs,target=/scratch grep -q "/scratch tmpfs" /proc/mounts && echo tmpfs > /seen-tmpfs',
        'RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/in.txt > /seen-bind',
        'RUN --mount=type=bind,source=data,target=/mnt/rw,rw echo changed > /mnt/rw/in.txt && cat /mnt/rw/in.txt >> /seen-bind',
        'RUN --network=none ls /sys/class/net > /seen-net',
      ].join('\n'),
    });
    const id = build(dir, '--secret', `id=token,src=${secret}`);
    assert.equal(runIn(id, 'cat /seen-secret; echo; cat /seen-tmpfs /seen-bind /seen-net; ls /run/secrets 2>&1 | head -1'), 's3cr3t\ntmpfs\nbound\nchanged\nlo\nls: /run/secrets: No such file or directory\n');
    assert.equal(readFileSync(join(dir, 'data', 'in.txt'), 'utf8'), 'bound\n', 'a writable bind mount writes to a copy, not to the context');
    const bad = berth(['build', '-q', context({ Dockerfile: 'FROM busybox\nCOPY --parents a /\n' })]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /Dockerfile:2: COPY: unknown flag: --parents/);
  });

  it("runs RUN steps in a network namespace of their own on the bridge: the build host's 127.0.0.1 is out of reach, --network host reaches it", async () => {
    // A server on the host's loopback, in a process of its own (spawnSync blocks this one).
    const server = spawn(process.execPath, ['-e', 'const s=require("net").createServer((c)=>c.end("host-only\\n"));s.listen(0,"127.0.0.1",()=>console.log(s.address().port))'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        server.once('exit', () => reject(new Error('the test server ended')));
      });
      assert.ok(port > 0);
      const dir = context({
        Dockerfile: ['FROM busybox', `RUN (nc -w 3 127.0.0.1 ${port} </dev/null || echo unreachable) > /seen-host; ls /sys/class/net | tr "\\n" " " > /seen-net`].join('\n'),
      });
      assert.equal(runIn(build(dir), 'cat /seen-host /seen-net'), 'unreachable\neth0 lo ');
      assert.equal(runIn(build(dir, '--network', 'host'), 'cat /seen-host'), 'host-only\n');
      assertNothingLeft();
    } finally {
      server.kill();
    }
  });

  it('writes -q, --iidfile and --output as oci, docker and local', () => {
    const dir = context({ 'f.txt': 'file\n', Dockerfile: 'FROM busybox\nCOPY f.txt /f.txt\n' });
    const out = tmp('berth-build-out-');
    const id = build(dir, '--iidfile', join(out, 'iid'), '-o', `type=oci,dest=${join(out, 'oci.tar')}`);
    assert.equal(readFileSync(join(out, 'iid'), 'utf8'), id);
    assert.match(spawnSync('tar', ['-tf', join(out, 'oci.tar')], { encoding: 'utf8' }).stdout, /^index\.json$/m);
    build(dir, '--output', `type=docker,dest=${join(out, 'docker.tar')}`);
    assert.match(spawnSync('tar', ['-tf', join(out, 'docker.tar')], { encoding: 'utf8' }).stdout, /^manifest\.json$/m);
    build(dir, '-o', join(out, 'fs'));
    assert.equal(readFileSync(join(out, 'fs', 'f.txt'), 'utf8'), 'file\n');
    assert.ok(existsSync(join(out, 'fs', 'bin', 'busybox')));
  });

  it('makes images that podman loads from `berth save` with the same id', { skip: !existsSync('/usr/bin/podman') ? 'podman is not installed' : false }, () => {
    const dir = context({ 'f.txt': 'for podman\n', Dockerfile: 'FROM busybox\nCOPY f.txt /\nRUN cat /f.txt > /g.txt\nCMD ["cat", "/g.txt"]\n' });
    const id = build(dir, '-t', 'for-podman:1');
    const pdir = tmp('berth-build-podman-');
    const pm = (...a: string[]) => spawnSync('/usr/bin/podman', ['--root', join(pdir, 'storage'), '--runroot', join(pdir, 'run'), ...a], { encoding: 'utf8', timeout: 120_000 });
    try {
      ok(['save', '-o', join(pdir, 'img.tar'), 'for-podman:1']);
      const l = pm('load', '-i', join(pdir, 'img.tar'));
      assert.equal(l.status, 0, l.stderr);
      assert.equal(pm('image', 'inspect', '--format', '{{.Id}}', 'for-podman:1').stdout.trim(), id.slice(7));
      const hist = pm('history', '--format', '{{.CreatedBy}}', 'for-podman:1').stdout;
      assert.match(hist, /COPY f.txt \/ # buildkit/);
    } finally {
      pm('system', 'reset', '-f');
    }
  });

  it('takes the context as a tar on stdin, a Dockerfile on stdin, and -f', () => {
    const dir = context({ 'f.txt': 'from tar\n', 'other.Dockerfile': 'FROM busybox\nCOPY f.txt /\n' });
    const tar = spawnSync('tar', ['-c', '-C', dir, '.']).stdout;
    const id = ok(['build', '-q', '-f', 'other.Dockerfile', '-'], tar).trim();
    assert.equal(runIn(id, 'cat /f.txt'), 'from tar\n');
    const id2 = ok(['build', '-q', '-'], 'FROM busybox\nRUN echo stdin > /s\n').trim();
    assert.equal(runIn(id2, 'cat /s'), 'stdin\n');
    const id3 = ok(['build', '-q', '-f', join(dir, 'other.Dockerfile'), dir]).trim();
    assert.equal(runIn(id3, 'cat /f.txt'), 'from tar\n');
    assertNothingLeft();
  });

  it('unpacks a hostile context tar on stdin only inside the context: a link to the host and .. names reach nothing outside', async () => {
    const outside = tmp('berth-ctx-outside-');
    writeFileSync(join(outside, 'sentinel'), 'sentinel\n');
    // An entry under a link to the host: the link resolves inside the context, where there is no
    // such directory, and the build stops naming the entry (Docker refuses it as a breakout).
    const hostile = await tarOf([
      { name: 'Dockerfile', body: 'FROM busybox\nCOPY . /ctx/\n' },
      { name: 'out', type: 'symlink', linkname: outside },
      { name: 'out/evil', body: 'through the link\n' },
    ]);
    const r = berth(['build', '-q', '-'], hostile);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^Error response from daemon: build -: the context tar on stdin: entry "out\/evil": .*no such file or directory\n$/);
    // A name climbing above the context is kept below it.
    const climbing = await tarOf([
      { name: 'Dockerfile', body: 'FROM busybox\nCOPY . /ctx/\n' },
      { name: '../climb', body: 'above the context\n' },
    ]);
    const id = ok(['build', '-q', '-'], climbing).trim();
    assert.equal(runIn(id, 'cat /ctx/climb'), 'above the context\n');
    assert.deepEqual(readdirSync(outside), ['sentinel']);
    assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'sentinel\n');
    assertNothingLeft();
  });

  it('reports bad input with file:line and exit 1, and leaves nothing behind', () => {
    const before = ok(['images', '-q', '-a']);
    const outside = tmp('berth-outside-');
    writeFileSync(join(outside, 'x'), 'x');
    const cases: [Record<string, string>, RegExp][] = [
      [{ Dockerfile: 'FROM busybox\nRUN true\nFOO bar\n' }, /^Error response from daemon: Dockerfile:3: unknown instruction: FOO\n$/],
      [{ Dockerfile: 'FROM busybox\nENV A="unterminated\n' }, /^Error response from daemon: Dockerfile:2: ENV: unexpected end of statement while looking for matching double-quote\n$/],
      [{ Dockerfile: 'FROM busybox\nRUN true\nCOPY missing.txt /\n' }, /^Error response from daemon: Dockerfile:3: COPY "missing.txt": file not found in build context or excluded by .dockerignore\n$/],
      [{ Dockerfile: 'FROM busybox\nCOPY ../x /\n' }, /^Error response from daemon: Dockerfile:2: COPY "..\/x": path outside the build context\n$/],
      [{ Dockerfile: 'FROM busybox\nCOPY link /\n' }, /^Error response from daemon: Dockerfile:2: COPY "link": a symlink to ".*", outside the build context\n$/],
      [{ Dockerfile: 'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /x /y\n' }, /^Error response from daemon: Dockerfile:2: circular dependency between stages: "b" → "a" → "b"\n$/],
      // A base image not here is pulled; the tests' config (scripts/test.mjs) lets docker.io be pulled from mirrors only, and names none.
      [{ Dockerfile: 'FROM no-such-image:1\n' }, /^Error response from daemon: Dockerfile:1: FROM no-such-image:1: (pull access denied for no-such-image|no-such-image:1: registry docker\.io is set to mirrors only)/],
      [{ Dockerfile: 'FROM busybox\nADD http://example.invalid/x /x\n' }, /^Error response from daemon: Dockerfile:2: ADD http:\/\/example.invalid\/x: sources from URLs and git are not supported/],
      [{ Dockerfile: 'FROM busybox\nCOPY <<EOF /x\nno end\n' }, /^Error response from daemon: Dockerfile:2: unterminated heredoc EOF/],
      [{ Dockerfile: 'FROM busybox\nHEALTHCHECK --interval=soon CMD true\n' }, /^Error response from daemon: Dockerfile:2: HEALTHCHECK --interval=soon: not a duration/],
      [{ Dockerfile: 'FROM busybox\nCOPY --chown=ghost f /\n', f: '' }, /^Error response from daemon: Dockerfile:2: COPY --chown=ghost: no user "ghost" in the image's \/etc\/passwd\n$/],
    ];
    for (const [files, want] of cases) {
      const dir = context(files);
      if (want.source.includes('symlink')) symlinkSync(join(outside, 'x'), join(dir, 'link'));
      const r = berth(['build', '-q', '-t', 'must-not-exist:1', dir]);
      assert.equal(r.status, 1, `${files.Dockerfile}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assertNothingLeft();
    }
    assert.equal(ok(['images', '-q', '-a']), before, 'no image was stored or tagged');
  });

  it('stops on Ctrl-C (SIGINT): the running step is killed, exit 130, nothing left behind', async () => {
    const dir = context({ Dockerfile: 'FROM busybox\nRUN echo started; sleep 60\n' });
    const child = spawn(bin, ['--root', root, '--runroot', runroot, 'build', '--progress', 'plain', '-t', 'must-not-exist:3', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!sent && err.includes(' started\n')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    assert.equal(code, 130, err);
    assert.match(err, /Dockerfile:2: RUN echo started; sleep 60: the build was canceled\n$/);
    assert.equal(berth(['image', 'inspect', 'must-not-exist:3']).status, 1);
    assertNothingLeft();
  });

  it('stops the other stages when one fails, and reports that one', () => {
    const dir = context({ Dockerfile: ['FROM busybox AS slow', 'RUN sleep 600', 'FROM busybox AS broken', 'RUN exit 3', 'FROM busybox', 'COPY --from=slow /bin/sh /a', 'COPY --from=broken /bin/sh /b'].join('\n') });
    const r = berth(['build', '-q', dir]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^Error response from daemon: Dockerfile:4: RUN exit 3: .* returned a non-zero code: 3\n$/);
    assertNothingLeft();
  });

  it('shows a failing RUN\'s output and exit code, and leaves nothing behind', () => {
    const before = ok(['images', '-q', '-a']);
    const dir = context({ Dockerfile: 'FROM busybox\nRUN echo partial > /p\nRUN echo to-stdout; echo to-stderr >&2; exit 42\nRUN echo never\n' });
    const plain = berth(['build', '--progress', 'plain', '-t', 'must-not-exist:2', dir]);
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /#\d+ [\d.]+ to-stdout\n/);
    assert.match(plain.stderr, /#\d+ [\d.]+ to-stderr\n/);
    assert.match(plain.stderr, /Error response from daemon: Dockerfile:3: RUN echo to-stdout; echo to-stderr >&2; exit 42: the command "\/bin\/sh -c echo to-stdout; echo to-stderr >&2; exit 42" returned a non-zero code: 42\n$/);
    assert.doesNotMatch(plain.stderr, /never/);
    const quiet = berth(['build', '-q', dir]);
    assert.equal(quiet.status, 1);
    assert.match(quiet.stderr, /^to-stdout\nto-stderr\nError response from daemon: Dockerfile:3: /);
    assert.equal(ok(['images', '-q', '-a']), before);
    assertNothingLeft();
  });
});
