/**
 * Side by side: what berth's rooted file work makes of links a container or a build stage planted
 * (COPY --from, COPY into a linked destination, commit, diff), against dockerd. The links name a
 * host directory of the test's; in both engines they must resolve inside the stage or container.
 *
 * dockerd here has no buildx: `docker build` runs Docker's classic builder (DOCKER_BUILDKIT=0),
 * whose COPY path rules (a named source or a glob match that is a link followed inside the stage,
 * links below a copied directory kept as links, a destination link followed inside the stage) are
 * the ones BuildKit keeps too. Where a build fails, only the failure is compared: the docker CLI
 * exits 1 for any failed build, berth's exit code for a failed step is the exit code table's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanupTmp, isRoot } from '../helpers.js';
import { dockerdSkip, sideBySide, type SideBySide } from './side-by-side.js';

process.env.DOCKER_BUILDKIT = '0';

describe('side by side: links planted in stages and containers', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  let host = '';
  let n = 0;
  /** Builds the Dockerfile in both as TAG; asserts both succeed (or both fail, with `fails`). */
  const build = (tag: string, dockerfile: string, opts: { fails?: RegExp } = {}) => {
    const ctx = join(sbs.dir, `ctx-${n++}`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    const { d, b } = sbs.both(['build', '-q', '--network', 'none', '-t', tag, ctx]);
    if (opts.fails) {
      assert.notEqual(d.status, 0, `docker built it: ${d.stdout}`);
      assert.notEqual(b.status, 0, `berth built it: ${b.stdout}`);
      assert.match(b.stderr, opts.fails);
      return;
    }
    assert.equal(d.status, 0, `docker build: ${d.stderr}`);
    assert.equal(b.status, 0, `berth build: ${b.stderr}`);
  };
  /** Every path below these directories with its type, a link's target and a file's text. */
  const show = (...dirs: string[]) => `for p in $(find ${dirs.join(' ')} | sort); do if [ -L $p ]; then echo "$p -> $(readlink $p)"; elif [ -d $p ]; then echo "$p/"; else echo "$p: $(cat $p)"; fi; done`;

  before(async () => {
    sbs = await sideBySide('rooted');
    host = join(sbs.dir, 'host-sentinel');
    mkdirSync(host);
    writeFileSync(join(host, 'keep'), 'from the host\n');
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  it('COPY --from: a source link followed inside the stage, a path through it too, links in a copied directory kept', () => {
    build(
      'rc-a:1',
      [
        'FROM busybox AS s',
        `RUN mkdir -p /data ${host} && echo stage-own > ${host}/keep && ln -s ${host} /x && ln -s ${host} /data/abs && ln -s ../..${host}/keep /data/rel && echo p > /data/plain`,
        'FROM busybox',
        'COPY --from=s /x /y',
        'COPY --from=s /x/keep /z',
        'COPY --from=s /data /d',
      ].join('\n') + '\n',
    );
    sbs.same(['run', '--rm', '--network', 'none', 'rc-a:1', 'sh', '-c', show('/y', '/z', '/d')]);
  });

  it('COPY --from a path through a link to where the stage has nothing: both fail', () => {
    build('rc-b:1', `FROM busybox AS s\nRUN ln -s ${host} /x\nFROM busybox\nCOPY --from=s /x/keep /z\n`, { fails: /COPY --from=s "\/x\/keep": file not found in stage or image "s"/ });
    build('rc-c:1', `FROM busybox AS s\nRUN ln -s ${host} /x\nFROM busybox\nCOPY --from=s /x /y\n`, { fails: /COPY --from=s "\/x": file not found in stage or image "s"/ });
  });

  it('COPY into a destination link to where the stage has nothing: the directory is made where it leads, inside the stage', () => {
    build('rc-d:1', `FROM busybox AS s\nRUN echo p > /plain\nFROM busybox\nRUN ln -s ${host} /dst && ln -s ../..${host}/deeper /rel\nCOPY --from=s /plain /dst/\nCOPY --from=s /plain /rel/x/\n`);
    sbs.same(['run', '--rm', '--network', 'none', 'rc-d:1', 'sh', '-c', `${show(host)}; readlink /dst /rel`]);
  });

  it('COPY through a destination link to a directory of the stage, and of a source link to a directory', () => {
    build('rc-h:1', 'FROM busybox AS s\nRUN mkdir -p /a/b && echo deep > /a/b/f && ln -s /a/b /l\nFROM busybox\nRUN mkdir /real && ln -s /real /dst\nCOPY --from=s /l/f /dst/\nCOPY --from=s /l /dst/viadir/\n');
    sbs.same(['run', '--rm', '--network', 'none', 'rc-h:1', 'sh', '-c', `${show('/real')}; readlink /dst`]);
  });

  it('COPY --from with a glob whose match is a link: followed inside the stage', () => {
    build('rc-e:1', 'FROM busybox AS s\nRUN mkdir /src && echo p > /src/f && ln -s /src /lnk\nFROM busybox\nCOPY --from=s /lnk* /g/\n');
    sbs.same(['run', '--rm', '--network', 'none', 'rc-e:1', 'sh', '-c', show('/g')]);
  });

  it('diff and commit of a container that planted links to the host: the links as links', () => {
    const plant = `mkdir -p /evil/sub && ln -s ${host} /evil/abs && ln -s ../../../../..${host}/keep /evil/sub/rel && ln -s /evil/abs /evil/chain && echo inside > /evil/plain`;
    sbs.same(['run', '--name', 'planter', '--network', 'none', 'busybox', 'sh', '-c', plant]);
    // dockerd lists the changes in the file system's readdir order (host-specific); berth sorts them.
    sbs.same(['diff', 'planter'], { normalize: (s) => s.split('\n').sort().join('\n') });
    const { d, b } = sbs.both(['commit', 'planter', 'rc-planted:1']);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(b.status, 0, b.stderr);
    sbs.same(['run', '--rm', '--network', 'none', 'rc-planted:1', 'sh', '-c', `${show('/evil')}; cat /evil/abs/keep /evil/sub/rel 2>&1 | sed 's/^cat: //'; true`]);
  });
});
