/** A first set of side-by-side scenarios: a container's output and exit code, through both engines. */
import { after, before, describe, it } from 'node:test';
import { isRoot, cleanupTmp } from '../helpers.js';
import { dockerdSkip, sideBySide, type SideBySide } from './side-by-side.js';

describe('side by side: run', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  before(async () => {
    sbs = await sideBySide('basics');
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });
  it('run --rm prints the command output', () => {
    sbs.same(['run', '--rm', 'busybox', 'echo', 'hello']);
  });
  it('run --rm passes the exit code through', () => {
    sbs.same(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  });
});
