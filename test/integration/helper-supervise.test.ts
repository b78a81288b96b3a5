/**
 * berth-helper as a container's parent (native/supervise.c), seen from outside: the helper passes
 * on the signals it gets, in the foreground as in a monitor, and tells how the container ended
 * in one format, the same in its result line and in a monitor's status file.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, describe, it } from 'node:test';
import { parseExitStatus } from '../../src/sys/exit-status.js';
import { TestRuntime, bundle, cleanupTmp, isRoot, statusField, uniqueId } from '../helpers.js';

const skip = !isRoot ? 'needs root' : false;
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z';
const TRAP_TERM = ['sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo up; while :; do sleep 0.05; done'];

/** The file's content once it holds a line (the loop gives up after about 10 s). */
async function firstLine(path: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text.includes('\n')) return text;
    await sleep(10);
  }
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

describe('berth-helper: one supervisor, one status format', { skip }, () => {
  const t = new TestRuntime();
  afterEach(() => t.cleanup());
  after(() => cleanupTmp());

  it('in the foreground, passes a signal sent to the helper on to the container', async () => {
    let pid = 0;
    const b = bundle(TRAP_TERM);
    const id = uniqueId();
    const run = t.run(b, id, (p) => (pid = p));
    for (let i = 0; i < 500 && pid === 0; i++) await sleep(10);
    assert.match(await firstLine(join(b.dir, `out-${id}.txt`)), /^up\n/);
    const helper = Number(statusField(pid, 'PPid'));
    assert.ok(helper > 1 && helper !== process.pid, `the container's parent is the helper, not ${helper}`);
    process.kill(helper, 'SIGTERM');
    const r = await run;
    assert.equal(r.code, 3);
    assert.match(r.output, /got TERM/);
  });

  it("as a monitor, passes a signal on and appends the end to the status file: 'exit CODE TIME'", async () => {
    const b = bundle(TRAP_TERM);
    const log = join(b.dir, 'json.log');
    const status = join(b.dir, 'status');
    const { monitorPid } = await t.rt.runDetached(uniqueId(), { bundle: b.dir, log, status });
    assert.match(await firstLine(log), /"log":"up\\n","stream":"stdout"/);
    process.kill(monitorPid, 'SIGTERM');
    const line = (await firstLine(status)).trim();
    assert.match(line, new RegExp(`^exit 3 ${TIME}$`));
    assert.equal(parseExitStatus(line)?.code, 3);
    assert.match(readFileSync(log, 'utf8'), /"log":"got TERM\\n"/);
  });

  it("as a monitor, tells a signal's end as 'signal SIG CORE TIME'", async () => {
    const b = bundle(['sleep', '30']);
    const status = join(b.dir, 'status');
    const { pid } = await t.rt.runDetached(uniqueId(), { bundle: b.dir, log: join(b.dir, 'json.log'), status });
    process.kill(pid, 'SIGKILL');
    const line = (await firstLine(status)).trim();
    assert.match(line, new RegExp(`^signal 9 0 ${TIME}$`));
    assert.deepEqual({ ...parseExitStatus(line), finishedAt: undefined }, { code: 137, signal: 9, coreDumped: false, finishedAt: undefined });
  });
});
