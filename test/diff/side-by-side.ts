/**
 * The differential harness: one berth root and one dockerd of the test's own (test/diff/dockerd.ts),
 * both holding the same busybox image (berth's `starter`, saved and loaded into dockerd), and a way
 * to run the same command line through each and compare what users rely on: the exit code, stdout
 * after normalising ids and times, and (where scripts parse it) stderr.
 *
 *   const sbs = await sideBySide('ps');          // in before()
 *   sbs.same(['run', '--name', 'a', 'busybox', 'true']);   // asserts equal status + stdout
 *   const { d, b } = sbs.both(['inspect', '-f', '{{.State.ExitCode}}', 'a']);
 *   sbs.stop();                                  // in after(): removes everything of both
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { tmp } from '../helpers.js';
import { startDockerd, type Dockerd } from './dockerd.js';

export { dockerdSkip, modernDockerCliPath } from './dockerd.js';

export type Result = SpawnSyncReturns<string>;

export interface RunOpts {
  input?: string | Buffer;
  /** Working directory of the command (relative paths in flags resolve against it). */
  cwd?: string;
}

export interface CompareOpts extends RunOpts {
  /** Also compare stderr (after normalising); default: only the exit code and stdout. */
  stderr?: boolean;
  /** Extra normalisation applied to both outputs before comparing. */
  normalize?: (s: string) => string;
}

export interface SideBySide {
  /** The temporary directory both engines live under. */
  dir: string;
  dockerd: Dockerd;
  berth(args: string[], opts?: RunOpts): Result;
  docker(args: string[], opts?: RunOpts): Result;
  /** The same command line through both. */
  both(args: string[], opts?: RunOpts): { d: Result; b: Result };
  /** The same command line through both; asserts the same exit code and stdout (and stderr if asked). */
  same(args: string[], opts?: CompareOpts): { d: Result; b: Result };
  stop(): void;
}

const berthBin = join(berthPackageRoot(), 'bin', 'berth');

/**
 * Ids, digests and times that differ between any two engines by nature: 64- and 12-hex ids,
 * sha256 digests, RFC 3339 times, "N seconds ago"-style ages, and container sizes.
 */
export function normalizeIds(s: string): string {
  return s
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<digest>')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>')
    .replace(/\b(About a minute|About an hour|Less than a second|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?|years?)) ago\b/g, '<ago>')
    .replace(/\b(Up|Exited \(\d+\)) (About a minute|About an hour|Less than a second|\d+ (seconds?|minutes?|hours?))/g, '$1 <for>');
}

/** `cli`: the docker CLI that drives the dockerd (default: the harness's, see dockerd.ts). */
export async function sideBySide(name: string, opts: { cli?: string } = {}): Promise<SideBySide> {
  const dir = tmp(`berth-diff-${name}-`);
  const berth = (args: string[], opts: RunOpts = {}) =>
    spawnSync(berthBin, ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 120_000, input: opts.input, cwd: opts.cwd });
  const s = berth(['starter']);
  assert.equal(s.status, 0, s.stderr);
  const archive = join(dir, 'busybox.tar');
  const sv = berth(['save', '-o', archive, 'busybox']);
  assert.equal(sv.status, 0, sv.stderr);
  const dockerd = await startDockerd(join(dir, 'docker'), { cli: opts.cli });
  const l = dockerd.docker(['load', '-i', archive]);
  if (l.status !== 0) {
    dockerd.stop();
    assert.fail(`docker load: ${l.stderr}`);
  }
  const docker = (args: string[], opts: RunOpts = {}) => dockerd.docker(args, opts);
  const both = (args: string[], opts: RunOpts = {}) => ({ d: docker(args, opts), b: berth(args, opts) });
  const same = (args: string[], opts: CompareOpts = {}) => {
    const r = both(args, opts);
    const norm = (x: string) => (opts.normalize ?? ((y: string) => y))(normalizeIds(x));
    const what = `berth ${args.join(' ')}\n docker: [${r.d.status}] ${r.d.stdout}${r.d.stderr}\n berth:  [${r.b.status}] ${r.b.stdout}${r.b.stderr}`;
    assert.equal(r.b.status, r.d.status, `exit code differs: ${what}`);
    assert.equal(norm(r.b.stdout), norm(r.d.stdout), `stdout differs: ${what}`);
    if (opts.stderr) assert.equal(norm(r.b.stderr), norm(r.d.stderr), `stderr differs: ${what}`);
    return r;
  };
  const stop = () => {
    dockerd.stop();
    berth(['system', 'reset', '-f']);
  };
  return { dir, dockerd, berth, docker, both, same, stop };
}
