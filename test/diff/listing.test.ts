/**
 * The listing commands side by side with dockerd: ps (every filter, -a/-l/-n/-q/-s/--no-trunc,
 * the columns and template fields), images (filters, rows per tag, rmi's lines), volume ls/rm/prune,
 * network ls/rm and top. Both engines are fresh and get the same containers, in the same order.
 *
 * What the comparisons leave out, and why:
 * - Column padding: the docker CLI's tabwriter pads every column to at least 10 characters; berth's
 *   table writer (src/cli/output.ts, another part's) pads to the widest cell. Runs of spaces are
 *   compared as one gap (`gaps`).
 * - Exit codes of errors: dockerd's errors exit 1 in the docker CLI, berth's exit codes are mapped
 *   in src/cli/exit.ts (another part's); `sameError` compares the message and that both fail.
 * - The test dockerd runs with --bridge=none: it has no `bridge` network, berth always has one; the
 *   network listings drop that line (`noBridge`).
 * - Published ports: dockerd here also publishes on IPv6 (":::PORT->80/tcp"), berth IPv4 only; the
 *   publish= scenarios compare names, not the PORTS column.
 * - docker's image rows of one image with several repositories come in Go's map order (random):
 *   those listings are compared as sorted lines (`sorted`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanupTmp, isRoot } from '../helpers.js';
import { dockerdSkip, normalizeIds, sideBySide, type Result, type SideBySide } from './side-by-side.js';

/** Runs of spaces as one gap (column widths are the table writer's, see above). */
const gaps = (s: string) => s.replace(/ {2,}/g, '   ').replace(/ +$/gm, '');
/** Lines sorted, the header (when there is one) first. */
const sorted = (s: string) => {
  const lines = gaps(s).split('\n').filter(Boolean);
  const head = /^(REPOSITORY|CONTAINER ID|NETWORK ID|DRIVER)/.test(lines[0] ?? '') ? [lines.shift()!] : [];
  return [...head, ...lines.sort()].join('\n') + '\n';
};
/** The default bridge's line (the test dockerd has none). */
const noBridge = (s: string) => gaps(s).split('\n').filter((l) => !/^(<id> +)?bridge( |$)/.test(l)).join('\n');
/** Go's time.Time.String() of the docker CLI's CreatedAt fields. */
const goTimes = (s: string) => s.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC/g, '<time>');
/** The message of an error, without the client's prefix. */
/**
 * The message without its frame. This file drives dockerd with Debian's 20.10 CLI, which looks a
 * volume or network up itself ("No such volume: X", "No such network: X"); berth's words are the
 * docker 28 CLI's, which passes the daemon's on ("get X: no such volume", "network X not found",
 * test/diff/errors.test.ts).
 */
const message = (r: Result) =>
  r.stderr
    .replace(/^(Error response from daemon: |Error: |berth: |docker: )/gm, '')
    .replace(/^No such volume: (\S+)$/gm, 'get $1: no such volume')
    .replace(/^No such network: (\S+)$/gm, 'network $1 not found')
    .trim();

describe('side by side: listing', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  const same = (args: string[], normalize: (s: string) => string = gaps) => sbs.same(args, { normalize });
  /** Both fail, with the same message. */
  const sameError = (args: string[]) => {
    const { d, b } = sbs.both(args);
    const what = `${args.join(' ')}\n docker: [${d.status}] ${d.stderr}\n berth:  [${b.status}] ${b.stderr}`;
    assert.notEqual(d.status, 0, what);
    assert.notEqual(b.status, 0, what);
    assert.equal(normalizeIds(message(b)), normalizeIds(message(d)), what);
    assert.equal(b.stdout, d.stdout, what);
  };
  /** Runs the command in both; each must succeed. */
  const ok = (args: string[]) => {
    const { d, b } = sbs.both(args);
    assert.equal(d.status, 0, `docker ${args.join(' ')}: ${d.stderr}`);
    assert.equal(b.status, 0, `berth ${args.join(' ')}: ${b.stderr}`);
  };
  const rmAll = () => {
    for (const run of [sbs.docker, sbs.berth]) {
      const ids = run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) run(['rm', '-f', '-v', ...ids]);
    }
  };

  before(async () => {
    sbs = await sideBySide('listing');
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  describe('ps', () => {
    before(() => {
      ok(['run', '-d', '--name', 'r1', '--label', 'a=1', '--label', 'b=2', 'busybox', 'sleep', '300']);
      const e3 = sbs.both(['run', '--name', 'e3', 'busybox', 'sh', '-c', 'exit 3']);
      assert.deepEqual([e3.d.status, e3.b.status], [3, 3], e3.b.stderr);
      ok(['run', '--name', 'e0', '--label', 'a=0', 'busybox', 'true']);
      ok(['create', '--name', 'c1', '--label', 'a=2', '--health-cmd', 'true', 'busybox', 'echo', 'hello world this is long']);
      ok(['run', '-d', '--name', 'r2', '--network', 'none', 'busybox', 'sleep', '300']);
    });
    after(rmAll);

    it('lists the running ones, or all; the command quoted and cut as docker does', () => {
      same(['ps']);
      same(['ps', '-a']);
      same(['ps', '-a', '--no-trunc']);
      same(['container', 'ls', '-a']);
    });
    it('-q, -aq and --no-trunc ids', () => {
      same(['ps', '-q']);
      same(['ps', '-aq']);
      same(['ps', '-aq', '--no-trunc']);
    });
    it('-l and -n: the newest, of every state; -n 0 or less: no limit', () => {
      same(['ps', '-l']);
      same(['ps', '-lq']);
      same(['ps', '-n', '2']);
      same(['ps', '-n', '3', '-q']);
      same(['ps', '-n', '0']);
      same(['ps', '-n', '-3']);
      same(['ps', '-n', '1', '--filter', 'status=exited']);
    });
    it('status= lists stopped ones without -a; values of one key are alternatives', () => {
      same(['ps', '--filter', 'status=exited']);
      same(['ps', '--filter', 'status=exited', '--filter', 'status=created']);
      same(['ps', '--filter', 'status=running']);
      same(['ps', '-a', '--filter', 'status=paused']);
      same(['ps', '--filter', 'status=created', '--filter', 'label=a=2']);
    });
    it('exited= (not implying -a), several codes', () => {
      same(['ps', '--filter', 'exited=3']);
      same(['ps', '-a', '--filter', 'exited=3']);
      same(['ps', '-a', '--filter', 'exited=0', '--filter', 'exited=3']);
    });
    it('name= is a pattern, with or without the slash', () => {
      same(['ps', '-a', '--filter', 'name=1']);
      same(['ps', '-a', '--filter', 'name=^r']);
      same(['ps', '-a', '--filter', 'name=^/e']);
      same(['ps', '-a', '--filter', 'name=.3$']);
      same(['ps', '-a', '--filter', 'name=[']);
      same(['ps', '-a', '--filter', 'name=r1', '--filter', 'name=c1']);
      same(['ps', '--filter', 'name=c1']);
    });
    it('id= is a unique id prefix', () => {
      const prefix = (run: SideBySide['docker']) => run(['inspect', '-f', '{{.Id}}', 'e3']).stdout.trim().slice(0, 6);
      const d = sbs.docker(['ps', '-a', '--filter', `id=${prefix(sbs.docker)}`, '--format', '{{.Names}}']);
      const b = sbs.berth(['ps', '-a', '--filter', `id=${prefix(sbs.berth)}`, '--format', '{{.Names}}']);
      assert.equal(b.stdout, d.stdout);
      assert.equal(b.stdout, 'e3\n');
      same(['ps', '-a', '--filter', 'id=', '--format', '{{.Names}}']);
      same(['ps', '-a', '--filter', 'id=zz']);
    });
    it('label= KEY or KEY=VALUE; several must all hold', () => {
      same(['ps', '--filter', 'label=a']);
      same(['ps', '-a', '--filter', 'label=a']);
      same(['ps', '-a', '--filter', 'label=a=2']);
      same(['ps', '-a', '--filter', 'label=a', '--filter', 'label=b']);
      same(['ps', '-a', '--filter', 'label=a', '--filter', 'label=c']);
    });
    it('before= and since=', () => {
      same(['ps', '-a', '--filter', 'before=c1']);
      same(['ps', '--filter', 'before=c1']);
      same(['ps', '-a', '--filter', 'since=e3']);
      same(['ps', '-a', '--filter', 'since=e3', '--filter', 'before=r2']);
      sameError(['ps', '-a', '--filter', 'since=nope']);
    });
    it('ancestor= by reference or id; an image that is not there matches nothing', () => {
      same(['ps', '-a', '--filter', 'ancestor=busybox']);
      same(['ps', '-a', '--filter', 'ancestor=busybox:latest']);
      const id = sbs.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim();
      same(['ps', '-a', '--filter', `ancestor=${id.slice(7, 19)}`]);
      same(['ps', '-a', '--filter', 'ancestor=nope']);
    });
    it('health=, isolation= (any value on Linux), is-task=', () => {
      same(['ps', '-a', '--filter', 'health=none']);
      same(['ps', '-a', '--filter', 'health=starting']);
      same(['ps', '-a', '--filter', 'isolation=default']);
      same(['ps', '-a', '--filter', 'isolation=foo']);
      same(['ps', '-a', '--filter', 'is-task=true']);
      same(['ps', '-a', '--filter', 'is-task=false']);
    });
    it('network= by name; --network none is on none', () => {
      same(['ps', '-a', '--filter', 'network=none']);
      same(['ps', '-a', '--filter', 'network=bridge', '--format', '{{.Names}}']);
      same(['ps', '-a', '--filter', 'network=nope']);
    });
    it("dockerd's errors for wrong filters", () => {
      sameError(['ps', '--filter', 'x=1']);
      sameError(['ps', '--filter', 'status=bogus']);
      sameError(['ps', '--filter', 'health=bad']);
      sameError(['ps', '--filter', 'is-task=x']);
      sameError(['ps', '--filter', 'exited=abc']);
      sameError(['ps', '--filter', 'publish=1:2']);
      sameError(['ps', '--filter', 'publish=x']);
      sameError(['ps', '--filter', '=x']);
      // The docker CLI's own flag error (then its usage hint, which berth does not print).
      const { d, b } = sbs.both(['ps', '--filter', 'noequals']);
      assert.ok(d.status !== 0 && b.status !== 0);
      assert.equal(message(b), message(d).split('\n')[0]);
    });
    it("template fields as the docker CLI's", () => {
      // The LABELS column follows Go's map order in Docker (random from run to run), berth's is
      // sorted: the pairs are compared sorted.
      const sortLabels = (t: string) => gaps(t.split('\n').map((l) => l.split('|').map((f, i) => (i === 2 ? f.split(',').sort().join(',') : f)).join('|')).join('\n'));
      same(['ps', '-a', '--format', '{{.Names}}|{{.Command}}|{{.Labels}}|{{.Mounts}}|{{.Networks}}|{{.LocalVolumes}}|{{.State}}|{{.Status}}|{{.Ports}}'], sortLabels);
      same(['ps', '-a', '--format', '{{.ID}} {{.Image}} {{.CreatedAt}} {{.RunningFor}}'], goTimes);
      // (The docker 28 CLI's row has a Platform field, null here, that the 20.10 CLI of this file lacks.)
      same(['ps', '-a', '--filter', 'name=e3', '--format', '{{json .}}'], (s) => goTimes(s).replace('"Platform":null,', ''));
    });
  });

  describe('ps: mounts, ports, sizes, images', () => {
    // Both engines publish on this host: each its own host port (docker's, berth's = docker's + 1).
    const port = 20000 + 2 * Math.floor(Math.random() * 10000);
    before(() => {
      ok(['network', 'create', 'lsnet']);
      ok(['volume', 'create', 'lsvol']);
      for (const [run, p] of [[sbs.docker, port], [sbs.berth, port + 1]] as const) {
        const r = run(['run', '-d', '--name', 'p1', '--network', 'lsnet', '-p', `${p}:80`, '-v', 'lsvol:/data', 'busybox', 'sleep', '300']);
        assert.equal(r.status, 0, r.stderr);
      }
      ok(['run', '--name', 'b1', '-v', '/tmp:/hosttmp', 'busybox', 'sh', '-c', 'echo hi > /f']);
      ok(['tag', 'busybox', 'lstmp']);
      ok(['create', '--name', 'x1', 'lstmp', 'true']);
      ok(['rmi', 'lstmp']);
      ok(['commit', '-c', 'EXPOSE 90', '-c', 'EXPOSE 53/udp', 'x1', 'lsexp:1']);
      ok(['run', '-d', '--name', 'ex', '--network', 'lsnet', 'lsexp:1', 'sleep', '300']);
    });
    after(() => {
      rmAll();
      for (const run of [sbs.docker, sbs.berth]) {
        run(['network', 'rm', 'lsnet']);
        run(['volume', 'rm', 'lsvol']);
        run(['rmi', 'lsexp:1']);
      }
    });

    it('volume= by a volume name, a bind source or a destination', () => {
      same(['ps', '-a', '--filter', 'volume=lsvol', '--format', '{{.Names}} {{.Mounts}} {{.LocalVolumes}}']);
      same(['ps', '-a', '--filter', 'volume=/hosttmp', '--format', '{{.Names}} {{.Mounts}} {{.LocalVolumes}}']);
      same(['ps', '-a', '--filter', 'volume=/tmp', '--format', '{{.Names}}']);
      same(['ps', '-a', '--filter', 'volume=/data', '--format', '{{.Names}}']);
    });
    it('network= by name on a user network', () => {
      same(['ps', '-a', '--filter', 'network=lsnet', '--format', '{{.Names}} {{.Networks}}']);
    });
    it('publish= matches the host port, not the container port', () => {
      // The same filter on each engine's own port.
      const each = (f: (p: number) => string, want: string) => {
        const d = sbs.docker(['ps', '-a', '--filter', f(port), '--format', '{{.Names}}']);
        const b = sbs.berth(['ps', '-a', '--filter', f(port + 1), '--format', '{{.Names}}']);
        assert.equal(d.stdout, want, d.stderr);
        assert.equal(b.stdout, d.stdout, b.stderr);
      };
      each((p) => `publish=${p}`, 'p1\n');
      each((p) => `publish=${p}/tcp`, 'p1\n');
      each((p) => `publish=${p}/udp`, '');
      each((p) => `publish=${p - 1}-${p}`, 'p1\n');
      each((p) => `publish=${p + 10}`, '');
      same(['ps', '-a', '--filter', 'publish=80', '--format', '{{.Names}}']);
    });
    it("expose= and PORTS: an image's exposed ports, not published", () => {
      same(['ps', '--filter', 'name=ex', '--format', '{{.Names}} {{.Ports}}']);
      same(['ps', '--filter', 'expose=90', '--format', '{{.Names}}']);
      same(['ps', '--filter', 'expose=53/udp', '--format', '{{.Names}}']);
      same(['ps', '--filter', 'expose=80-95/tcp', '--format', '{{.Names}}']);
      same(['ps', '--filter', 'expose=53', '--format', '{{.Names}}']);
    });
    it('-s: the container layer and the image (virtual)', () => {
      same(['ps', '-a', '-s', '--format', '{{.Names}} {{.Size}}']);
      same(['ps', '-a', '-s', '--filter', 'name=b1']);
      same(['ps', '-a', '--format', '{{.Names}} {{.Size}}']);
    });
    it("IMAGE: the image's id once the reference names another image (or none)", () => {
      same(['ps', '-a', '--format', '{{.Names}} {{.Image}}']);
      same(['ps', '-a', '--no-trunc', '--format', '{{.Names}} {{.Image}}']);
    });
  });

  describe('images', () => {
    after(() => {
      rmAll();
      for (const run of [sbs.docker, sbs.berth]) run(['rmi', 'ls/b:1', 'ls/b:2', 'lsother:x', 'lslab:1']);
    });

    it('lists busybox: table, --digests, --no-trunc, -q', () => {
      same(['images']);
      same(['images', '--digests']);
      same(['images', '--no-trunc']);
      same(['images', '-q']);
      same(['image', 'ls', '-a']);
    });
    it('a row per tag; -q an id a row', () => {
      ok(['tag', 'busybox', 'ls/b:1']);
      ok(['tag', 'busybox', 'ls/b:2']);
      ok(['tag', 'busybox', 'lsother:x']);
      same(['images'], sorted);
      same(['images', '-q'], sorted);
      same(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.VirtualSize}} {{.Containers}} {{.Digest}}'], sorted);
    });
    it('reference= and the argument: globs on the familiar name, only the matching tags listed', () => {
      same(['images', 'ls/b']);
      same(['images', 'ls/b:2']);
      same(['images', '--filter', 'reference=ls/b']);
      same(['images', '--filter', 'reference=ls/*:1']);
      same(['images', '--filter', 'reference=*:x']);
      same(['images', '--filter', 'reference=busybox']);
      same(['images', '--filter', 'reference=busy*']);
      same(['images', '--filter', 'reference=docker.io/library/busybox']);
      same(['images', '--filter', 'reference=ls/b', '--filter', 'reference=lsother'], sorted);
      same(['images', '-q', '--filter', 'reference=ls/b']);
      sameError(['images', '--filter', 'reference=[']);
    });
    it('dangling=, label=, before=, since=', () => {
      ok(['run', '--name', 'ic', 'busybox', 'sh', '-c', 'echo x > /f']);
      ok(['commit', '-c', 'LABEL x=y', 'ic', 'lslab:1']);
      ok(['commit', 'ic']);
      same(['images', '--format', '{{.Repository}}:{{.Tag}}'], sorted);
      same(['images', '--filter', 'dangling=true', '--format', '{{.Repository}}:{{.Tag}}']);
      same(['images', '--filter', 'dangling=false', '--format', '{{.Repository}}:{{.Tag}}'], sorted);
      same(['images', '--filter', 'label=x', '--format', '{{.Repository}}:{{.Tag}}']);
      same(['images', '--filter', 'label=x=y', '--format', '{{.Repository}}:{{.Tag}}']);
      same(['images', '--filter', 'label=x=z']);
      same(['images', '--filter', 'since=busybox', '--format', '{{.Repository}}:{{.Tag}}'], sorted);
      same(['images', '--filter', 'before=lslab:1', '--format', '{{.Repository}}:{{.Tag}}'], sorted);
      same(['images', '--filter', 'before=busybox']);
      same(['images', '--filter', 'reference=ls*', '--filter', 'dangling=true']);
    });
    it("dockerd's errors for wrong filters", () => {
      sameError(['images', '--filter', 'dangling=bogus']);
      sameError(['images', '--filter', 'bogus=1']);
      sameError(['images', '--filter', 'since=nope']);
    });
    it("rmi: Untagged and Deleted lines; the listing after", () => {
      same(['rmi', 'ls/b:1']);
      sameError(['rmi', 'ls/b:1']);
      // The layer of lslab:1 stays: the untagged commit of the same container has it too.
      same(['rmi', 'lslab:1']);
      same(['images', '--format', '{{.Repository}}:{{.Tag}}'], sorted);
      same(['rm', 'ic']);
      // By id: the image, then its own layer.
      const dangling = (run: SideBySide['docker']) => run(['images', '-q', '--filter', 'dangling=true']).stdout.trim();
      const d = sbs.docker(['rmi', dangling(sbs.docker)]);
      const b = sbs.berth(['rmi', dangling(sbs.berth)]);
      assert.equal(d.status, 0, d.stderr);
      assert.equal(normalizeIds(b.stdout), normalizeIds(d.stdout));
      assert.equal(normalizeIds(d.stdout), 'Deleted: sha256:<digest>\nDeleted: sha256:<digest>\n');
    });
    it("rmi: dockerd's conflicts, several names, force", () => {
      same(['rmi', 'ls/b:2', 'lsother:x']);
      ok(['tag', 'busybox', 'lsr/a:1']);
      ok(['tag', 'busybox', 'lsr/b:1']);
      const id = sbs.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim().slice(7, 19);
      sameError(['rmi', id]);
      const { d, b } = sbs.both(['rmi', 'lsr/a:1', 'nope', 'lsr/b:1']);
      assert.ok(d.status !== 0 && b.status !== 0);
      assert.equal(b.stdout, d.stdout);
      // The 20.10 CLI sends the name as typed (dockerd: "No such image: nope"); the docker 28 CLI
      // sends "nope:latest", and berth's words are those (test/diff/errors.test.ts).
      assert.equal(message(b), message(d).replace('No such image: nope', 'No such image: nope:latest'));
      // Its last tag, while a container uses it.
      ok(['create', '--name', 'ru', 'busybox', 'true']);
      sameError(['rmi', 'busybox']);
      sameError(['rmi', id]);
      ok(['run', '-d', '--name', 'rr', 'busybox', 'sleep', '300']);
      sameError(['rmi', '-f', id]);
      // Forced by reference while a running container uses it: the tag goes, the image stays.
      same(['rmi', '-f', 'busybox']);
      same(['images', '-q']);
      ok(['tag', id, 'busybox:latest']);
      ok(['rm', '-f', 'ru', 'rr']);
      same(['images']);
    });
  });

  describe('volumes', () => {
    before(() => {
      ok(['volume', 'create', 'v1']);
      ok(['volume', 'create', '--label', 'k=v', 'v2']);
      ok(['volume', 'create', 'v10']);
      ok(['create', '--name', 'vu', '-v', 'v1:/x', 'busybox', 'true']);
    });
    after(() => {
      rmAll();
      for (const run of [sbs.docker, sbs.berth]) run(['volume', 'rm', '-f', 'v1', 'v2', 'v10']);
    });

    it('volume ls: by name (numbers by value), -q, filters', () => {
      same(['volume', 'ls']);
      same(['volume', 'ls', '-q']);
      same(['volume', 'ls', '-q', '--filter', 'dangling=true']);
      same(['volume', 'ls', '-q', '--filter', 'dangling=false']);
      same(['volume', 'ls', '-q', '--filter', 'dangling=1']);
      same(['volume', 'ls', '-q', '--filter', 'name=v1']);
      same(['volume', 'ls', '-q', '--filter', 'name=^v1$']);
      same(['volume', 'ls', '-q', '--filter', 'label=k']);
      same(['volume', 'ls', '-q', '--filter', 'label=k=v']);
      same(['volume', 'ls', '-q', '--filter', 'label=k=w']);
      same(['volume', 'ls', '-q', '--filter', 'driver=local']);
      same(['volume', 'ls', '-q', '--filter', 'driver=loc']);
      same(['volume', 'ls', '-q', '--filter', 'name=v', '--filter', 'dangling=true']);
    });
    it('volume ls: template fields', () => {
      same(['volume', 'ls', '--filter', 'name=v2', '--format', '{{.Name}}|{{.Driver}}|{{.Labels}}|{{.Scope}}|{{.Links}}|{{.Size}}']);
    });
    it("dockerd's errors for wrong filters", () => {
      sameError(['volume', 'ls', '--filter', 'bogus=1']);
      sameError(['volume', 'ls', '--filter', 'dangling=maybe']);
    });
    it('volume rm: -f passes over missing ones; without it, the others are removed and it fails', () => {
      same(['volume', 'rm', '-f', 'missing', 'v2']);
      const { d, b } = sbs.both(['volume', 'rm', 'missing', 'v10']);
      assert.notEqual(d.status, 0);
      assert.notEqual(b.status, 0);
      assert.equal(b.stdout, d.stdout);
      assert.equal(message(b), message(d));
      sameError(['volume', 'rm', 'missing']);
      same(['volume', 'ls', '-q']);
    });
    it('volume prune: the unused anonymous volume', () => {
      ok(['run', '--name', 'anon', '-v', '/y', 'busybox', 'true']);
      ok(['rm', 'anon']);
      same(['volume', 'prune', '-f']);
      same(['volume', 'prune', '-f']);
    });
  });

  describe('networks', () => {
    before(() => {
      ok(['network', 'create', 'n1']);
      ok(['network', 'create', '--label', 'k=v', 'n2']);
      ok(['network', 'create', 'n10']);
      ok(['run', '-d', '--name', 'nu', '--network', 'n10', 'busybox', 'sleep', '300']);
    });
    after(() => {
      rmAll();
      for (const run of [sbs.docker, sbs.berth]) run(['network', 'rm', 'n1', 'n2', 'n10']);
    });

    it('network ls: by name (numbers by value), -q, --no-trunc', () => {
      same(['network', 'ls'], noBridge);
      same(['network', 'ls', '--no-trunc'], noBridge);
      same(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.IPv6}} {{.Labels}}'], noBridge);
      same(['network', 'ls', '--format', '{{.Name}} {{.CreatedAt}}'], (s) => noBridge(goTimes(s)));
    });
    it('network ls: filters', () => {
      same(['network', 'ls', '-q', '--filter', 'name=n1']);
      same(['network', 'ls', '--filter', 'name=^n', '--format', '{{.Name}}']);
      same(['network', 'ls', '--filter', 'name=n1$', '--format', '{{.Name}}']);
      same(['network', 'ls', '--filter', 'label=k', '--format', '{{.Name}}']);
      same(['network', 'ls', '--filter', 'label=k=v', '--filter', 'name=n', '--format', '{{.Name}}']);
      same(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']);
      same(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}'], noBridge);
      same(['network', 'ls', '--filter', 'driver=bridge', '--format', '{{.Name}}'], noBridge);
      same(['network', 'ls', '--filter', 'driver=null', '--format', '{{.Name}}']);
      // Differs on purpose: dockerd 20.10's list has no containers in it, so every custom network is
      // dangling there, also one a running container is on; berth's is not (as network prune sees it).
      assert.equal(sbs.docker(['network', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}']).stdout, 'n1\nn2\nn10\n');
      assert.equal(sbs.berth(['network', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}']).stdout, 'n1\nn2\n');
      assert.equal(sbs.berth(['network', 'ls', '--filter', 'dangling=false', '--format', '{{.Name}}']).stdout, 'bridge\nhost\nn10\nnone\n');
      same(['network', 'ls', '--filter', 'dangling=true', '--filter', 'name=^n[12]$', '--format', '{{.Name}}']);
      same(['network', 'ls', '--filter', 'scope=local', '--format', '{{.Name}}'], noBridge);
    });
    it("dockerd's errors for wrong filters", () => {
      sameError(['network', 'ls', '--filter', 'bogus=1']);
      sameError(['network', 'ls', '--filter', 'type=bad']);
      sameError(['network', 'ls', '--filter', 'dangling=maybe']);
    });
    it('network rm of several goes on past one that is not there', () => {
      const { d, b } = sbs.both(['network', 'rm', 'n1', 'missing', 'n2']);
      assert.notEqual(d.status, 0);
      assert.notEqual(b.status, 0);
      assert.equal(b.stdout, d.stdout);
      assert.equal(message(b), message(d));
      same(['network', 'ls', '--format', '{{.Name}}'], noBridge);
    });
  });

  describe('top', () => {
    before(() => {
      ok(['run', '-d', '--name', 't1', 'busybox', 'sleep', '300']);
      ok(['create', '--name', 't2', 'busybox', 'true']);
    });
    after(rmAll);
    /** Host pids, times and CPU shares differ between any two runs: numbers and clock times as <n>. */
    const numbers = (s: string) => gaps(s.replace(/\b\d+([.:]\d+)*\b/g, '<n>'));

    it("ps -ef's columns by default, the container's processes only", () => {
      same(['top', 't1'], numbers);
    });
    it('ps options after the name', () => {
      same(['top', 't1', '-o', 'pid,comm'], numbers);
      same(['top', 't1', '-o', 'pid,user,args'], numbers);
      sameError(['top', 't1', '-o', 'user,args']);
    });
    it("ps's error, and a container that is not running", () => {
      sameError(['top', 't1', '-o', 'bogus']);
      sameError(['top', 't2']);
      sameError(['top', 'nope']);
    });
  });
});
