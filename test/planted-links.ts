/**
 * What the tests of berth's rooted file work share: the berth CLI on a root of the test's own, and
 * the links a container plants in /evil to reach a host directory and a host file (absolute,
 * relative with `..` climbing past the root, a chain, to a file, one level down).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { berthPackageRoot } from '../src/sys/paths.js';

export const berthBin = join(berthPackageRoot(), 'bin', 'berth');

/** `berth` with --root and --runroot under `dir`; `ok` asserts it exits 0 and gives its stdout. */
export function berthOn(dir: string, timeout = 120_000): { berth: (args: string[], input?: Buffer | string) => SpawnSyncReturns<Buffer>; ok: (args: string[], input?: Buffer | string) => Buffer } {
  const berth = (args: string[], input?: Buffer | string) => spawnSync(berthBin, ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), ...args], { encoding: 'buffer', timeout, input, maxBuffer: 1 << 28 });
  const ok = (args: string[], input?: Buffer | string) => {
    const r = berth(args, input);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr.toString()}`);
    return r.stdout;
  };
  return { berth, ok };
}

/** A shell command that plants, in /evil, every kind of link to `hostDir` and `secret`, and a plain file. */
export function plantLinks(hostDir: string, secret: string): string {
  return [
    'mkdir -p /evil /evil/sub',
    `ln -s ${hostDir} /evil/abs`,
    `ln -s ../../../../../../../..${hostDir} /evil/rel`,
    'ln -s /evil/abs /evil/chain',
    `ln -s ${secret} /evil/secret-abs`,
    `ln -s ../../../../../../..${secret} /evil/sub/secret-rel`,
    'echo inside > /evil/plain',
  ].join(' && ');
}
