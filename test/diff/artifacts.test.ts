/**
 * Side by side with dockerd: commit (the container's config, --change, -m/-a, --pause, history,
 * parent), save/load (several images, by id, by repository, archives of either engine loaded by
 * the other) and cp (into and out of containers, '/.', links, -L, -a, tar streams, errors).
 *
 * Exit codes of failing commands are the exitcodes engineer's (berth's CLI exits 125 where the
 * docker CLI exits 1): those scenarios compare that both fail and the message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot } from '../helpers.js';
import { dockerCliPath } from './dockerd.js';
import { dockerdSkip, sideBySide, type Result, type SideBySide } from './side-by-side.js';

/** A host tree's entries: path, type, mode, owner, link target (sorted). */
function listing(dir: string): string {
  const r = spawnSync('find', ['.', '-mindepth', '1', '-printf', '%P %y %m %U:%G %l\n'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort().join('\n');
}

/** A tar file's entries: type and mode, owner, name, link (sorted; no times or sizes). */
function tarListing(file: string, filter: RegExp = /./): string {
  const r = spawnSync('tar', ['tvf', file, '--numeric-owner'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/))
    .map((f) => [f[0], f[1], ...f.slice(5)].join(' '))
    .filter((l) => filter.test(l))
    .sort()
    .join('\n');
}

/** Both failed, with this message in stderr. */
function bothFail(r: { d: Result; b: Result }, message: string): void {
  assert.notEqual(r.d.status, 0, `docker: ${r.d.stdout}${r.d.stderr}`);
  assert.notEqual(r.b.status, 0, `berth: ${r.b.stdout}${r.b.stderr}`);
  assert.match(r.d.stderr, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'docker says it');
  assert.match(r.b.stderr, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'berth says it as docker');
}

describe('side by side: commit, save/load, cp', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  let src: string;
  before(async () => {
    sbs = await sideBySide('artifacts');
    // A host tree to copy in: a file of another owner, a link, a directory.
    src = join(sbs.dir, 'src');
    mkdirSync(join(src, 'd', 'sub'), { recursive: true });
    writeFileSync(join(src, 'd', 'a'), 'a\n');
    writeFileSync(join(src, 'd', 'sub', 'b'), 'b\n');
    symlinkSync('a', join(src, 'd', 'link'));
    chownSync(join(src, 'd', 'a'), 1234, 5678);
    sbs.same(['create', '--name', 'box', 'busybox', 'true']);
    sbs.same(['create', '--name', 'nobodybox', '-u', 'nobody', 'busybox', 'true']);
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  /** A container's file system (its export) as a listing of the entries matching `filter`. */
  const containerListing = (name: string, filter: RegExp) => {
    const out: string[] = [];
    for (const [who, run] of [
      ['d', sbs.docker],
      ['b', sbs.berth],
    ] as const) {
      const file = join(sbs.dir, `export-${who}-${name}.tar`);
      const r = run(['export', '-o', file, name]);
      assert.equal(r.status, 0, r.stderr);
      out.push(tarListing(file, filter));
    }
    return { d: out[0]!, b: out[1]! };
  };

  /** `cp ARGS` run in a fresh host directory of each engine's (holding an empty "exist/"): the directories' listings. */
  const cpOut = (args: string[], tag: string) => {
    const dirs = { d: join(sbs.dir, `out-d-${tag}`), b: join(sbs.dir, `out-b-${tag}`) };
    mkdirSync(join(dirs.d, 'exist'), { recursive: true });
    mkdirSync(join(dirs.b, 'exist'), { recursive: true });
    const d = spawnSync(dockerArgv(sbs, args)[0]!, dockerArgv(sbs, args).slice(1), { cwd: dirs.d, encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: join(sbs.dir, 'docker', 'cli') } });
    const b = sbs.berth(args, { cwd: dirs.b });
    return { d, b, ld: listing(dirs.d), lb: listing(dirs.b) };
  };

  describe('commit', () => {
    before(() => {
      // --network none: the harness's dockerd has no bridge, and marks a default-network container NetworkDisabled.
      sbs.same(['run', '--name', 'c1', '--network', 'none', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1:1', '--label', 'l=v', 'busybox', 'sh', '-c', 'echo hi > /tmp/x']);
    });

    it("the image's config is the container's: its command, -e, -w, -u and labels", () => {
      sbs.same(['commit', 'c1', 'img1']);
      const { d } = sbs.same(['image', 'inspect', '-f', '{{json .Config}}', 'img1']);
      assert.match(d.stdout, /"FOO=bar"/);
    });

    it('the history row is created by the container\'s command; the base image is its parent', () => {
      sbs.same(['history', '--no-trunc', '--format', '{{.ID}} {{.CreatedBy}}|{{.Comment}}', 'img1']);
      sbs.same(['image', 'inspect', '-f', '{{.Parent}}|{{.Author}}|{{.Comment}}', 'img1']);
    });

    it('-m and -a: the comment and the author, in inspect and history', () => {
      sbs.same(['commit', '-m', 'a message', '-a', 'Someone <some@one>', 'c1', 'img2']);
      sbs.same(['image', 'inspect', '-f', '{{.Author}}|{{.Comment}}', 'img2']);
      sbs.same(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'img2']);
    });

    it('-c: ENTRYPOINT drops the CMD, a relative WORKDIR joins, ENV expands $VAR, and the rest', () => {
      sbs.same(['commit', '-c', 'ENTRYPOINT ["x"]', '-c', 'WORKDIR rel', '-c', 'ENV A=$FOO:y B="2 3"', '-c', 'EXPOSE 81 82/udp', '-c', 'LABEL a=b', '-c', 'VOLUME /v', '-c', 'USER nobody', 'c1', 'img3']);
      sbs.same(['image', 'inspect', '-f', '{{json .Config}}', 'img3']);
    });

    it('-c: CMD in shell form, CMD before ENTRYPOINT kept, HEALTHCHECK, ONBUILD', () => {
      sbs.same(['commit', '-c', 'CMD echo hi', '-c', 'ENTRYPOINT ["/bin/sh","-c"]', '-c', 'HEALTHCHECK CMD true', '-c', 'ONBUILD RUN y', 'c1', 'img4']);
      sbs.same(['image', 'inspect', '-f', '{{json .Config}}', 'img4']);
    });

    it('-c: an instruction dockerd does not take (STOPSIGNAL, RUN) is refused', () => {
      bothFail(sbs.both(['commit', '-c', 'STOPSIGNAL 9', 'c1', 'nope']), 'stopsignal is not a valid change command');
      bothFail(sbs.both(['commit', '-c', 'RUN true', 'c1', 'nope']), 'run is not a valid change command');
    });

    it('a running container, paused by default or not with --pause=false; the new image runs', () => {
      sbs.same(['run', '-d', '--name', 'c2', '--network', 'none', 'busybox', 'sh', '-c', 'echo up > /up; sleep 60']);
      // Until the container has written its file.
      for (let i = 0; i < 100 && sbs.both(['exec', 'c2', 'cat', '/up']).b.status !== 0; i++) spawnSync('sleep', ['0.1']);
      for (let i = 0; i < 100 && sbs.both(['exec', 'c2', 'cat', '/up']).d.status !== 0; i++) spawnSync('sleep', ['0.1']);
      sbs.same(['commit', 'c2', 'img5']);
      sbs.same(['commit', '--pause=false', 'c2', 'img6']);
      sbs.same(['run', '--rm', '--entrypoint', 'cat', 'img5', '/up']);
      sbs.same(['run', '--rm', '--entrypoint', 'cat', 'img6', '/up']);
      sbs.same(['inspect', '-f', '{{.State.Status}}', 'c2']);
      sbs.same(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'img5']);
      sbs.same(['rm', '-f', 'c2']);
    });
  });

  describe('save and load', () => {
    before(() => {
      sbs.same(['tag', 'busybox', 'bb:v1']);
      sbs.same(['tag', 'busybox', 'bb:v2']);
      sbs.same(['run', '--name', 's1', '--network', 'none', 'busybox', 'sh', '-c', 'echo s > /s']);
      sbs.same(['commit', 's1', 'saved:1']);
    });

    /** What an engine holds, by name: `images` rows without times and sizes, sorted (images of the same second list in any order). */
    const images = ['images', '--format', '{{.Repository}}:{{.Tag}}'];
    const sorted = { normalize: (s: string) => s.split('\n').sort().join('\n') };

    it('save of a repository name saves all its tags; load prints each', () => {
      const fd = join(sbs.dir, 'repo-d.tar');
      const fb = join(sbs.dir, 'repo-b.tar');
      assert.equal(sbs.docker(['save', '-o', fd, 'bb']).status, 0);
      assert.equal(sbs.berth(['save', '-o', fb, 'bb']).status, 0);
      // (rmi's own lines are not compared here: dockerd also lists the layers it deletes.)
      assert.equal(sbs.both(['rmi', 'bb:v1', 'bb:v2']).b.status, 0);
      const d = sbs.docker(['load', '-i', fd]);
      const b = sbs.berth(['load', '-i', fb]);
      assert.equal(b.stdout, d.stdout);
      assert.equal(d.stdout, 'Loaded image: bb:v1\nLoaded image: bb:v2\n');
      sbs.same(images, sorted);
    });

    it('save of two images (sharing a layer) and by id; archives of each engine load into the other', () => {
      const fd = join(sbs.dir, 'two-d.tar');
      const fb = join(sbs.dir, 'two-b.tar');
      assert.equal(sbs.docker(['save', '-o', fd, 'busybox', 'saved:1']).status, 0);
      assert.equal(sbs.berth(['save', '-o', fb, 'busybox', 'saved:1']).status, 0);
      const idD = sbs.docker(['image', 'inspect', '-f', '{{.Id}}', 'saved:1']).stdout.trim();
      const idB = sbs.berth(['image', 'inspect', '-f', '{{.Id}}', 'saved:1']).stdout.trim();
      assert.equal(sbs.both(['rmi', 'saved:1']).b.status, 0);
      // dockerd's archive into berth (its second image links the shared layer.tar), berth's into dockerd.
      const b = sbs.berth(['load', '-i', fd]);
      const d = sbs.docker(['load', '-i', fb]);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(d.status, 0, d.stderr);
      // Each load prints in its archive's order, and dockerd's save orders the images its own way
      // (by id), berth's as named: compared as sets.
      const lines = (t: string) => t.split('\n').filter(Boolean).sort();
      assert.deepEqual(lines(b.stdout), lines(d.stdout));
      assert.equal(sbs.berth(['image', 'inspect', '-f', '{{.Id}}', 'saved:1']).stdout.trim(), idD);
      assert.equal(sbs.docker(['image', 'inspect', '-f', '{{.Id}}', 'saved:1']).stdout.trim(), idB);
      sbs.same(['run', '--rm', 'saved:1', 'cat', '/s']);
    });

    it('save by id: the image untagged; load -q still prints what it loaded', () => {
      const id = sbs.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim();
      const fd = join(sbs.dir, 'id-d.tar');
      const fb = join(sbs.dir, 'id-b.tar');
      assert.equal(sbs.docker(['save', '-o', fd, id]).status, 0);
      assert.equal(sbs.berth(['save', '-o', fb, id]).status, 0);
      const b = sbs.berth(['load', '-q', '-i', fd]);
      const d = sbs.docker(['load', '-q', '-i', fb]);
      assert.equal(b.stdout, d.stdout);
      assert.equal(d.stdout, `Loaded image ID: ${id}\n`);
    });

    it('load of an archive whose layers are all stored loads the image again', () => {
      const f = join(sbs.dir, 'again.tar');
      assert.equal(sbs.berth(['save', '-o', f, 'saved:1']).status, 0);
      sbs.same(['tag', 'saved:1', 'saved:2']);
      assert.equal(sbs.both(['rmi', 'saved:1']).b.status, 0);
      const b = sbs.berth(['load', '-i', f]);
      const d = sbs.docker(['load', '-i', f]);
      assert.equal(b.stdout, d.stdout);
      sbs.same(images, sorted);
    });

    it('load of a missing file, save into a missing directory: docker\'s messages', () => {
      bothFail(sbs.both(['load', '-i', join(sbs.dir, 'nothere.tar')]), `open ${join(sbs.dir, 'nothere.tar')}: no such file or directory`);
      bothFail(sbs.both(['save', '-o', join(sbs.dir, 'nodir', 'x.tar'), 'busybox']), `failed to save image: invalid output path: directory "${join(sbs.dir, 'nodir')}" does not exist`);
    });

    it('save of a missing tag: reference does not exist', () => {
      bothFail(sbs.both(['save', '-o', join(sbs.dir, 'missing.tar'), 'bb:nope']), 'reference does not exist');
    });
  });

  describe('build and run --pull', () => {
    it("WORKDIR under USER: the directories are that user's (BuildKit's; the classic builder leaves them to root); MAINTAINER is the author", () => {
      const ctx = join(sbs.dir, 'ctx-workdir');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nMAINTAINER Jane Doe <jane@example.test>\nUSER nobody\nWORKDIR /wd/sub\n');
      // The harness's docker CLI (20.10) uses the classic builder unless told: berth builds as BuildKit does.
      const before = process.env.DOCKER_BUILDKIT;
      process.env.DOCKER_BUILDKIT = '1';
      try {
        const r = sbs.both(['build', '-q', '--network', 'none', '-t', 'wd', ctx]);
        assert.equal(r.d.status, 0, r.d.stderr);
        assert.equal(r.b.status, 0, r.b.stderr);
      } finally {
        if (before === undefined) delete process.env.DOCKER_BUILDKIT;
        else process.env.DOCKER_BUILDKIT = before;
      }
      const { d } = sbs.same(['run', '--rm', '--network', 'none', 'wd', 'stat', '-c', '%n %U:%G %a', '/wd', '/wd/sub']);
      assert.equal(d.stdout, '/wd nobody:nogroup 755\n/wd/sub nobody:nogroup 755\n');
      sbs.same(['image', 'inspect', '-f', '{{.Author}}|{{.Config.User}}|{{.Config.WorkingDir}}', 'wd']);
      sbs.same(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'wd']);
    });

    it('run --pull never: a stored image runs, a missing one is "No such image"', () => {
      sbs.same(['run', '--rm', '--network', 'none', '--pull', 'never', 'busybox', 'echo', 'ok']);
      sbs.same(['run', '--rm', '--network', 'none', '--pull=missing', 'busybox', 'echo', 'ok']);
      const r = sbs.both(['run', '--rm', '--pull', 'never', 'nosuch:img', 'true']);
      assert.equal(r.b.status, r.d.status);
      bothFail(r, 'No such image: nosuch:img');
      bothFail(sbs.both(['create', '--pull', 'never', 'nosuch:img']), 'No such image: nosuch:img');
    });
  });

  describe('cp', () => {
    before(() => {
      for (const args of [
        ['cp', join(src, 'd'), 'box:/tmp'],
        ['cp', join(src, 'd'), 'box:/newname'],
        ['cp', join(src, 'd') + '/.', 'box:/dotcopy'],
        ['cp', join(src, 'd') + '/.', 'box:/'],
        ['cp', join(src, 'd', 'link'), 'box:/lnk'],
        ['cp', '-L', join(src, 'd', 'link'), 'box:/lnkL'],
        ['cp', '-a', join(src, 'd'), 'nobodybox:/arch'],
        ['cp', join(src, 'd'), 'nobodybox:/kept'],
      ]) {
        sbs.same(args);
      }
    });

    it('into a (never started) container: into a directory, to a new name, "dir/." as contents; owners kept', () => {
      const l = containerListing('box', /( (tmp\/d|newname|dotcopy|a|link|sub)(\/|$| )|lnk)/);
      assert.equal(l.b, l.d);
      assert.match(l.d, /1234\/5678 tmp\/d\/a/);
    });

    it('-a: the entries belong to the container\'s user; a link source is copied as a link, -L as its target', () => {
      const l = containerListing('nobodybox', / (arch|kept)\//);
      assert.equal(l.b, l.d);
      assert.match(l.d, /65534\/65534 arch\/a/);
      const k = containerListing('box', / lnk/);
      assert.equal(k.b, k.d);
    });

    it('out of a container: a directory into ".", "dir/." to a new and an existing directory; the files are the caller\'s', () => {
      for (const [args, tag] of [
        [['cp', 'box:/tmp/d', '.'], 'dir'],
        [['cp', 'box:/tmp/d/.', 'x'], 'dotnew'],
        [['cp', 'box:/tmp/d/.', 'exist'], 'dotexist'],
        [['cp', 'box:/tmp/d/a', 'exist'], 'file'],
        [['cp', 'box:/tmp/d/a', 'renamed'], 'filenew'],
      ] as const) {
        const r = cpOut([...args], tag);
        assert.equal(r.b.status, r.d.status, `${args.join(' ')}: ${r.d.stderr} / ${r.b.stderr}`);
        assert.equal(r.lb, r.ld, args.join(' '));
      }
    });

    it('out of a container: a link as a link, with -L as its target under the link\'s name', () => {
      for (const [args, tag] of [
        [['cp', 'box:/tmp/d/link', '.'], 'link'],
        [['cp', '-L', 'box:/tmp/d/link', '.'], 'linkL'],
      ] as const) {
        const r = cpOut([...args], tag);
        assert.equal(r.b.status, r.d.status, `${args.join(' ')}: ${r.d.stderr} / ${r.b.stderr}`);
        assert.equal(r.lb, r.ld, args.join(' '));
      }
    });

    it('to "-": a tar stream keeping the container\'s owners ("dir/." as ./ entries, -L named by the target)', () => {
      for (const [args, tag] of [
        [['cp', 'box:/tmp/d', '-'], 'tar-dir'],
        [['cp', 'box:/tmp/d/.', '-'], 'tar-dot'],
        [['cp', '-L', 'box:/tmp/d/link', '-'], 'tar-L'],
      ] as const) {
        const files = { d: join(sbs.dir, `${tag}-d.tar`), b: join(sbs.dir, `${tag}-b.tar`) };
        // Binary output: through a shell redirect into a file.
        const dock = spawnSync('sh', ['-c', `"$@" > ${files.d}`, 'sh', ...dockerArgv(sbs, args)], { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: join(sbs.dir, 'docker', 'cli') } });
        const bert = spawnSync('sh', ['-c', `"$@" > ${files.b}`, 'sh', ...berthArgv(sbs, args)], { encoding: 'utf8' });
        assert.equal(dock.status, 0, dock.stderr);
        assert.equal(bert.status, 0, bert.stderr);
        assert.equal(tarListing(files.b), tarListing(files.d), args.join(' '));
      }
    });

    it('"dir/" that is no directory, a directory over a file: "no such directory", "cannot copy directory"', () => {
      const file = join(sbs.dir, 'plain-file');
      writeFileSync(file, 'x\n');
      bothFail(sbs.both(['cp', join(src, 'd', 'a'), 'box:/tmp/d/a/']), 'no such directory');
      bothFail(sbs.both(['cp', join(src, 'd', 'a'), 'box:/newdir/']), 'no such directory');
      bothFail(sbs.both(['cp', join(src, 'd'), 'box:/tmp/d/a']), 'cannot copy directory');
      bothFail(sbs.both(['cp', 'box:/tmp/d', file]), 'cannot copy directory');
      bothFail(sbs.both(['cp', 'box:/tmp/d/a', join(sbs.dir, 'nodir') + '/']), 'no such directory');
    });

    it('a missing path: "No such container:path: …", "lstat …", "invalid output path: …"', () => {
      // The docker CLI's own words for a missing source (dockerd's API says "Could not find the file …").
      bothFail(sbs.both(['cp', 'box:/nope', sbs.dir]), 'No such container:path: box:/nope');
      bothFail(sbs.both(['cp', join(src, 'd'), 'box:/nodir/x']), 'No such container:path: box:/nodir');
      bothFail(sbs.both(['cp', join(src, 'nope'), 'box:/x']), `lstat ${join(src, 'nope')}: no such file or directory`);
      bothFail(sbs.both(['cp', 'box:/tmp/d', join(sbs.dir, 'nodir', 'x')]), `invalid output path: directory "${join(sbs.dir, 'nodir')}" does not exist`);
    });
  });
});

/** The argv each engine's CLI runs for `args` (for a shell redirect of binary output): the harness's dockerd and berth root. */
function dockerArgv(sbs: SideBySide, args: readonly string[]): string[] {
  return [dockerCliPath!, '-H', `unix://${join(sbs.dir, 'docker', 'docker.sock')}`, ...args];
}
function berthArgv(sbs: SideBySide, args: readonly string[]): string[] {
  return [join(berthPackageRoot(), 'bin', 'berth'), '--root', join(sbs.dir, 'root'), '--runroot', join(sbs.dir, 'run'), ...args];
}
