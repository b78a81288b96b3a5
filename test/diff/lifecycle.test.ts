/**
 * Side by side with dockerd: a container's life (start, stop, kill, pause, restart, wait, rename,
 * a start that fails) and its logs, compared on exit codes, stdout, stderr's messages and the
 * inspect State; and, where the reference daemon cannot show it, what the container's process
 * received (a trap that says which signal came).
 *
 * Error messages are compared without the prefix each CLI puts before them ("Error response from
 * daemon: ", "docker: ", "berth: ", "Error: "). Exit codes of failing commands other than run and
 * create (docker's 1) are cli/exit.ts's (the exitcodes work): these scenarios assert that both
 * fail, and with the same message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanupTmp, isRoot, waitUntil } from '../helpers.js';
import { dockerdSkip, normalizeIds, sideBySide, type Result, type SideBySide } from './side-by-side.js';

/** A shell that says which of USR1, TERM and HUP it got (and exits 0, 3, 4), else loops. */
const TRAPS = "trap 'echo got USR1; exit 0' USR1; trap 'echo got TERM; exit 3' TERM; trap 'echo got HUP; exit 4' HUP; echo ready; while true; do sleep 0.1; done";

/**
 * stderr without the CLI's prefixes, ids and times normalised; the harness's docker CLI (20.10)
 * names stop's flag "-t, --time", docker 28's (which berth follows) "-t, --timeout".
 */
const message = (s: string) =>
  normalizeIds(s)
    .replaceAll('"-t, --time" flag', '"-t, --timeout" flag')
    .split('\n')
    .map((l) => l.replace(/^((Error response from daemon|docker|berth|Error): )+/, '').replace(/\.$/, ''))
    .filter((l) => l !== '' && !/^(Run|See) '(docker|berth)/.test(l))
    .join('\n');

describe('side by side: container lifecycle and logs', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  /** Runs in both; asserts both fail (status non-zero) with the same stdout and message. */
  const fails = (args: string[]) => {
    const r = sbs.both(args);
    const what = `${args.join(' ')}\n docker: [${r.d.status}] ${r.d.stdout}${r.d.stderr}\n berth:  [${r.b.status}] ${r.b.stdout}${r.b.stderr}`;
    assert.notEqual(r.d.status, 0, what);
    assert.notEqual(r.b.status, 0, what);
    assert.equal(normalizeIds(r.b.stdout), normalizeIds(r.d.stdout), what);
    assert.equal(message(r.b.stderr), message(r.d.stderr), what);
    return r;
  };
  /** In both (each its own), waits until `cond` holds of the command's result. */
  const untilBoth = (what: string, args: string[], cond: (r: Result) => boolean) => {
    waitUntil(`docker: ${what}`, () => cond(sbs.docker(args)));
    waitUntil(`berth: ${what}`, () => cond(sbs.berth(args)));
  };
  const detached = (name: string, ...args: string[]) => {
    const { d, b } = sbs.both(['run', '-d', '--name', name, ...args]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(b.status, 0, b.stderr);
  };
  const ready = (name: string) => untilBoth(`${name} ready`, ['logs', name], (r) => r.stdout.includes('ready'));

  before(async () => {
    sbs = await sideBySide('lifecycle');
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  it('stop sends --stop-signal given as a bare name, a number or in lower case', () => {
    detached('sig-name', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', TRAPS);
    detached('sig-num', '--stop-signal', '10', 'busybox', 'sh', '-c', TRAPS);
    detached('sig-lower', '--stop-signal', 'usr1', 'busybox', 'sh', '-c', TRAPS);
    for (const n of ['sig-name', 'sig-num', 'sig-lower']) ready(n);
    sbs.same(['stop', 'sig-name', 'sig-num', 'sig-lower']);
    for (const n of ['sig-name', 'sig-num', 'sig-lower']) {
      sbs.same(['logs', n]);
      sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', n]);
    }
  });

  it('kill -s takes a number, a bare name and a SIG name', () => {
    for (const [n, s] of [['k-num', '1'], ['k-name', 'HUP'], ['k-sig', 'SIGUSR1']] as const) {
      detached(n, 'busybox', 'sh', '-c', TRAPS);
      ready(n);
      sbs.same(['kill', '-s', s, n]);
      untilBoth(`${n} exited`, ['inspect', '-f', '{{.State.Status}}', n], (r) => r.stdout === 'exited\n');
      sbs.same(['logs', n]);
      sbs.same(['inspect', '-f', '{{.State.ExitCode}}', n]);
    }
  });

  it('stop -s sends that signal (berth only: docker 28 drops -s for this API 1.41 daemon)', () => {
    // docker 28 sends stop's signal only to daemons of API 1.42 and later; the reference is 1.41.
    const r = sbs.berth(['run', '-d', '--name', 'stop-s', 'busybox', 'sh', '-c', TRAPS]);
    assert.equal(r.status, 0, r.stderr);
    waitUntil('stop-s ready', () => sbs.berth(['logs', 'stop-s']).stdout.includes('ready'));
    assert.equal(sbs.berth(['stop', '-s', 'HUP', 'stop-s']).stdout, 'stop-s\n');
    assert.equal(sbs.berth(['logs', 'stop-s']).stdout, 'ready\ngot HUP\n');
    assert.equal(sbs.berth(['inspect', '-f', '{{.State.ExitCode}}', 'stop-s']).stdout, '4\n');
    // restart -s likewise, then the container runs again.
    assert.equal(sbs.berth(['start', 'stop-s']).status, 0);
    waitUntil('stop-s ready again', () => sbs.berth(['logs', 'stop-s']).stdout === 'ready\ngot HUP\nready\n');
    assert.equal(sbs.berth(['restart', '-s', 'USR1', '-t', '30', 'stop-s']).status, 0);
    waitUntil('stop-s got USR1', () => sbs.berth(['logs', 'stop-s']).stdout.includes('got USR1'));
    assert.equal(sbs.berth(['inspect', '-f', '{{.State.Status}}', 'stop-s']).stdout, 'running\n');
    assert.equal(sbs.berth(['rm', '-f', 'stop-s']).status, 0);
  });

  it('an unknown signal: run --stop-signal, kill -s', () => {
    const r = sbs.both(['run', '-d', '--name', 'badsig', '--stop-signal', 'FOO', 'busybox', 'sleep', '100']);
    assert.equal(r.b.status, r.d.status);
    assert.equal(message(r.b.stderr), message(r.d.stderr));
    detached('k-bad', 'busybox', 'sleep', '100');
    fails(['kill', '-s', 'FOO', 'k-bad']);
    fails(['kill', '-s', '0', 'k-bad']);
    sbs.same(['kill', 'k-bad']);
  });

  it('kill of a stopped or missing container; stop of a stopped one', () => {
    sbs.same(['create', '--name', 'never', 'busybox', 'true']);
    fails(['kill', 'never']);
    fails(['kill', 'no-such-container']);
    sbs.same(['stop', 'never']);
    sbs.same(['inspect', '-f', '{{.State.Status}}', 'never']);
    fails(['stop', 'no-such-container']);
    // The others are still stopped (each name on its own).
    const r = fails(['stop', 'never', 'no-such-container']);
    assert.equal(r.b.stdout, 'never\n');
  });

  it('stop kills after the timeout (-t, --timeout, or the container --stop-timeout)', () => {
    detached('stubborn', '--stop-timeout', '1', 'busybox', 'sh', '-c', "trap 'echo term' TERM; echo ready; while true; do sleep 0.1; done");
    ready('stubborn');
    sbs.same(['stop', 'stubborn']);
    sbs.same(['logs', 'stubborn']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'stubborn']);
    sbs.same(['start', 'stubborn']);
    ready('stubborn');
    sbs.same(['restart', '-t', '1', 'stubborn']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'stubborn']);
    sbs.same(['stop', '-t', '0', 'stubborn']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'stubborn']);
    fails(['stop', '-t', 'soon', 'stubborn']);
    // docker 28's --timeout and its deprecated --time (the harness's docker CLI, Debian's 20.10,
    // knows --time only): berth takes both.
    assert.equal(sbs.berth(['start', 'stubborn']).status, 0);
    assert.equal(sbs.berth(['restart', '--timeout', '1', 'stubborn']).stdout, 'stubborn\n');
    assert.equal(sbs.berth(['stop', '--time', '1', 'stubborn']).stdout, 'stubborn\n');
    assert.equal(sbs.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'stubborn']).stdout, 'exited 137\n');
  });

  it('pause: (Paused) in ps, State.Status paused, the status=paused filter, unpause', () => {
    detached('p1', 'busybox', 'sleep', '1000');
    sbs.same(['pause', 'p1']);
    sbs.same(['ps', '--filter', 'name=p1', '--format', '{{.Names}} {{.Status}} {{.State}}']);
    sbs.same(['ps', '--filter', 'status=paused', '--format', '{{.Names}}']);
    sbs.same(['ps', '--filter', 'status=running', '--filter', 'name=p1', '--format', '{{.Names}}']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'p1']);
    fails(['pause', 'p1']);
    fails(['exec', 'p1', 'true']);
    fails(['attach', 'p1']);
    fails(['rm', 'p1']);
    fails(['start', 'p1']);
    sbs.same(['unpause', 'p1']);
    fails(['unpause', 'p1']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'p1']);
    sbs.same(['exec', 'p1', 'echo', 'in']);
    sbs.same(['rm', '-f', 'p1']);
  });

  it('pause and unpause of a container that does not run', () => {
    sbs.same(['create', '--name', 'p-created', 'busybox', 'true']);
    fails(['pause', 'p-created']);
    fails(['unpause', 'p-created']);
    fails(['pause', 'no-such-container']);
  });

  it('kill, stop, restart and rm -f of a paused container', () => {
    detached('p2', 'busybox', 'sleep', '1000');
    sbs.same(['pause', 'p2']);
    // A signal unpauses it (the process gets it; sleep as pid 1 ignores USR1).
    sbs.same(['kill', '-s', 'USR1', 'p2']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'p2']);
    sbs.same(['pause', 'p2']);
    sbs.same(['stop', '-t', '1', 'p2']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Paused}}', 'p2']);
    sbs.same(['start', 'p2']);
    sbs.same(['pause', 'p2']);
    sbs.same(['restart', '-t', '1', 'p2']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Paused}}', 'p2']);
    sbs.same(['pause', 'p2']);
    sbs.same(['kill', 'p2']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Paused}}', 'p2']);
    sbs.same(['start', 'p2']);
    sbs.same(['pause', 'p2']);
    sbs.same(['rm', '-f', 'p2']);
    sbs.same(['ps', '-a', '--filter', 'name=p2', '--format', '{{.Names}}']);
  });

  it('a run whose start fails keeps a Created container with ExitCode 127 or 126 and State.Error', () => {
    const nf = sbs.both(['run', '--name', 'fail-nf', 'busybox', '/nonexistent']);
    assert.equal(nf.b.status, nf.d.status);
    assert.equal(nf.b.status, 127);
    const np = sbs.both(['run', '--name', 'fail-np', 'busybox', '/etc/passwd']);
    assert.equal(np.b.status, np.d.status);
    assert.equal(np.b.status, 126);
    // Detached, the id is printed first (it was created), then the start fails.
    const dn = sbs.both(['run', '-d', '--name', 'fail-d', 'busybox', '/nonexistent']);
    assert.equal(dn.b.status, dn.d.status);
    assert.match(dn.b.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal(normalizeIds(dn.b.stdout), normalizeIds(dn.d.stdout));
    sbs.same(['ps', '-a', '--filter', 'name=fail-', '--format', '{{.Names}} {{.Status}}']);
    sbs.same(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.Pid}} {{.State.StartedAt}} {{.State.FinishedAt}}', 'fail-nf', 'fail-np', 'fail-d']);
    for (const n of ['fail-nf', 'fail-np']) {
      const { d, b } = sbs.both(['inspect', '-f', '{{.State.Error}}', n]);
      assert.match(d.stdout, /\S/);
      assert.match(b.stdout, /\S/, 'berth keeps the error in State.Error');
    }
    // Starting it again fails again, and says which.
    const st = sbs.both(['start', 'fail-nf']);
    assert.notEqual(st.b.status, 0);
    assert.equal(st.b.stdout, st.d.stdout);
    assert.equal(message(st.b.stderr).split('\n').pop(), message(st.d.stderr).split('\n').pop());
    sbs.same(['rm', 'fail-nf', 'fail-np', 'fail-d']);
    // With --rm nothing stays.
    sbs.both(['run', '--rm', '--name', 'fail-rm', 'busybox', '/nonexistent']);
    sbs.same(['ps', '-a', '--filter', 'name=fail-rm', '--format', '{{.Names}}']);
  });

  it('State: created, running and exited, in Docker fields and Go times', () => {
    sbs.same(['create', '--name', 'st', 'busybox', 'sh', '-c', 'echo ready; sleep 1000']);
    const shape = (s: string) => normalizeIds(s).replace(/"Pid":[1-9]\d*/, '"Pid":<pid>');
    sbs.same(['inspect', '-f', '{{json .State}}', 'st'], { normalize: shape });
    sbs.same(['start', 'st']);
    sbs.same(['inspect', '-f', '{{json .State}}', 'st'], { normalize: shape });
    sbs.same(['kill', 'st']);
    untilBoth('st exited', ['inspect', '-f', '{{.State.Status}}', 'st'], (r) => r.stdout === 'exited\n');
    sbs.same(['inspect', '-f', '{{json .State}}', 'st'], { normalize: shape });
    // Times as Go's RFC3339Nano writes them: UTC, the fraction without trailing zeros.
    const t = sbs.berth(['inspect', '-f', '{{.State.StartedAt}} {{.State.FinishedAt}}', 'st']).stdout;
    assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z\n$/);
  });

  it('wait of several, a missing one among them', () => {
    detached('w1', 'busybox', 'sh', '-c', 'exit 3');
    detached('w2', 'busybox', 'sh', '-c', 'sleep 0.5; exit 4');
    sbs.same(['wait', 'w1', 'w2']);
    const r = fails(['wait', 'w1', 'no-such-container', 'w2']);
    assert.equal(r.b.stdout, '3\n4\n');
    sbs.same(['create', '--name', 'w3', 'busybox', 'true']);
    sbs.same(['wait', 'w3']);
  });

  it('start of several (a missing one among them), start -a, start of a running one', () => {
    sbs.same(['create', '--name', 'sa', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
    sbs.same(['start', '-a', 'sa'], { stderr: true });
    sbs.same(['create', '--name', 'sb', 'busybox', 'sleep', '1000']);
    fails(['start', 'sa', 'no-such-container', 'sb']);
    sbs.same(['start', 'sb']);
    sbs.same(['inspect', '-f', '{{.State.Status}}', 'sb']);
    fails(['start', '-a', 'sa', 'sb']);
    sbs.same(['rm', '-f', 'sb']);
  });

  it('rename: the same name, a taken one, an invalid one, a missing container', () => {
    sbs.same(['create', '--name', 'rn1', 'busybox', 'true']);
    sbs.same(['create', '--name', 'rn2', 'busybox', 'true']);
    fails(['rename', 'rn1', 'rn1']);
    fails(['rename', 'rn1', 'rn2']);
    fails(['rename', 'rn1', 'bad name']);
    fails(['rename', 'no-such-container', 'x']);
    sbs.same(['rename', 'rn1', 'rn3']);
    sbs.same(['ps', '-a', '--filter', 'name=rn', '--format', '{{.Names}}']);
  });

  it('restart policy on-failure:2: two restarts, RestartCount, and a manual start counts anew', () => {
    detached('flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1');
    untilBoth('flaky restarted twice', ['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky'], (r) => r.stdout === '2 exited\n');
    sbs.same(['inspect', '-f', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.State.Restarting}}', 'flaky']);
    sbs.same(['logs', 'flaky']);
    sbs.same(['start', 'flaky']);
    untilBoth('flaky ran three more times', ['logs', 'flaky'], (r) => r.stdout === 'run\n'.repeat(6));
    untilBoth('flaky restarted twice again', ['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky'], (r) => r.stdout === '2 exited\n');
  });

  it('update --restart: a running container follows its new policy; not one with --rm; no flags', () => {
    detached('upd', 'busybox', 'sh', '-c', 'echo ready; sleep 1; exit 2');
    sbs.same(['update', '--restart', 'on-failure:1', 'upd']);
    untilBoth('upd restarted once', ['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'upd'], (r) => r.stdout === '1 exited\n');
    sbs.same(['inspect', '-f', '{{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'upd']);
    sbs.same(['logs', 'upd']);
    detached('upd-rm', '--rm', 'busybox', 'sleep', '1000');
    fails(['update', '--restart', 'always', 'upd-rm']);
    fails(['update', 'upd']);
    fails(['update', '--restart', 'no', 'no-such-container']);
    sbs.same(['rm', '-f', 'upd-rm']);
  });

  describe('logs', () => {
    before(() => {
      // Two lines on stdout and one on stderr, a second apart, then a line without its newline.
      detached('lg', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; sleep 1.2; echo out2; printf nonl');
      untilBoth('lg exited', ['inspect', '-f', '{{.State.Status}}', 'lg'], (r) => r.stdout === 'exited\n');
    });

    it('stdout to stdout and stderr to stderr', () => {
      sbs.same(['logs', 'lg'], { stderr: true });
    });

    it('-t: Docker\'s fixed nine-digit RFC 3339 times', () => {
      const { d, b } = sbs.same(['logs', '-t', 'lg'], { stderr: true });
      for (const r of [d, b]) for (const l of r.stdout.split('\n')) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
    });

    it('--tail: a number, 0, and what is not a whole number (all)', () => {
      for (const t of ['1', '2', '0', 'all', '-1', 'abc', '1.5']) sbs.same(['logs', '--tail', t, 'lg'], { stderr: true });
      sbs.same(['logs', '-n', '1', 'lg'], { stderr: true });
    });

    it('--details', () => {
      sbs.same(['logs', '--details', 'lg'], { stderr: true });
    });

    it('--since and --until: durations, unix times, RFC 3339, 0', () => {
      for (const v of ['1700000000', '1700000000.5', '1m30s', '10s', '0', '2000000000', '2001-01-01T00:00:00Z', '2001-01-01']) {
        sbs.same(['logs', '--since', v, 'lg'], { stderr: true });
        sbs.same(['logs', '--until', v, 'lg'], { stderr: true });
      }
      fails(['logs', '--since', 'bogus', 'lg']);
      fails(['logs', '--until', 'bogus', 'lg']);
    });

    it('--since and --until between two lines (each engine its own times)', () => {
      // The time of out2 in each engine's log: --since it gives out2 and after, --until before it out1 and err1.
      for (const [run, name] of [[sbs.docker, 'docker'], [sbs.berth, 'berth']] as const) {
        const line = run(['logs', '-t', 'lg']).stdout.split('\n').find((l) => l.endsWith(' out2'))!;
        assert.ok(line, `${name}: out2 in logs -t`);
        const t = line.split(' ')[0]!;
        const unix = `${Math.floor(Date.parse(t) / 1000)}.${t.slice(20, 29)}`;
        for (const since of [t, unix]) {
          const r = run(['logs', '--since', since, 'lg']);
          assert.equal(r.stdout, 'out2\nnonl', `${name} --since ${since}`);
          assert.equal(r.stderr, '', `${name} --since ${since}`);
        }
        // --until the later of out1's and err1's times (until is inclusive; the streams' records
        // need not be in time order in the log).
        const lt = run(['logs', '-t', 'lg']);
        const e = [lt.stderr.split(' ')[0]!, lt.stdout.split(' ')[0]!].sort()[1]!;
        const until = `${Math.floor(Date.parse(e) / 1000)}.${e.slice(20, 29)}`;
        const r = run(['logs', '--until', until, 'lg']);
        assert.equal(r.stdout, 'out1\n', `${name} --until ${until}`);
        assert.equal(r.stderr, 'err1\n', `${name} --until ${until}`);
      }
    });

    it('-f ends when the container stops; a created container has no lines', () => {
      detached('lf', 'busybox', 'sh', '-c', 'echo x; sleep 1; echo y');
      sbs.same(['logs', '-f', 'lf'], { stderr: true });
      sbs.same(['logs', '-f', '--tail', '1', 'lf'], { stderr: true });
      sbs.same(['create', '--name', 'lc', 'busybox', 'echo', 'hi']);
      sbs.same(['logs', 'lc'], { stderr: true });
      fails(['logs', 'no-such-container']);
    });
  });
});
