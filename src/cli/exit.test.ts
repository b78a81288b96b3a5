import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError, notFound } from '../lib/errors.js';
import { cliError, cliSide, ExecStartFailure, failureFor, systemErrorText } from './exit.js';
import { newProgram, runProgram } from './program.js';

test('an engine error is the daemon\'s answer: exit 1 for every command but run and create', () => {
  for (const cmd of ['rm', 'stop', 'volume rm', 'network inspect', 'image rm', 'container logs', 'exec', 'cp']) {
    assert.deepEqual(failureFor(cmd, notFound('No such container: x')), { text: 'Error response from daemon: No such container: x', code: 1 }, cmd);
  }
});

test('run frames every error with its help line: 125, or the code of a command that cannot be executed', () => {
  const framed = (t: string, cmd = 'run') => `berth: ${t}\n\nRun 'berth ${cmd} --help' for more information`;
  assert.deepEqual(failureFor('run', notFound('No such image: x:latest')), { text: framed('Error response from daemon: No such image: x:latest'), code: 125 });
  assert.deepEqual(failureFor('container run', cliError('InvalidArgument', 'invalid containerPort: abc')), { text: framed('invalid containerPort: abc', 'container run'), code: 125 });
  assert.equal(failureFor('run', new BerthError('NotFound', 'exec: "x": executable file not found in $PATH', { exitCode: 127 })).code, 127);
  assert.equal(failureFor('run', new BerthError('FailedPrecondition', 'exec: "/etc": permission denied', { exitCode: 126 })).code, 126);
});

test('create: what the CLI rejects as run (125), what the daemon answers plain (1)', () => {
  assert.deepEqual(failureFor('create', cliError('InvalidArgument', 'open f: no such file or directory')), { text: "berth: open f: no such file or directory\n\nRun 'berth create --help' for more information", code: 125 });
  assert.deepEqual(failureFor('create', notFound('No such image: x:latest')), { text: 'Error response from daemon: No such image: x:latest', code: 1 });
});

test('start and restart of a command that cannot be executed: 1, not the shell\'s code', () => {
  assert.equal(failureFor('start', new BerthError('NotFound', 'x', { exitCode: 127 })).code, 1);
  assert.equal(failureFor('restart', new BerthError('NotFound', 'x', { exitCode: 127 })).code, 1);
});

test('an exec that cannot start: 126, its reason on stdout as a CRLF line', () => {
  const f = failureFor('exec', new ExecStartFailure(new BerthError('NotFound', 'OCI runtime exec failed: exec failed: x: unknown', { exitCode: 126 })));
  assert.deepEqual(f, { text: 'OCI runtime exec failed: exec failed: x: unknown\r', code: 126, stdout: true });
});

test('a build: its own code (a cancelled one 130), else 1', () => {
  assert.equal(failureFor('build', new BerthError('Unavailable', 'canceled', { exitCode: 130 })).code, 130);
  assert.equal(failureFor('builder build', new BerthError('InvalidArgument', 'Dockerfile:1: bad')).code, 1);
});

test("a Node system error reads as Go's: `open PATH: no such file or directory`, from the CLI", () => {
  const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), { code: 'ENOENT', syscall: 'open', path: '/x/y' });
  assert.equal(systemErrorText(e), 'open /x/y: no such file or directory');
  assert.deepEqual(failureFor('load', e), { text: 'open /x/y: no such file or directory', code: 1 });
  assert.throws(() => cliSide(() => { throw e; }), (c: unknown) => failureFor('run', c).text === "berth: open /x/y: no such file or directory\n\nRun 'berth run --help' for more information");
});

/** Runs a one-command program as the CLI does; what it printed on stderr and its code. */
async function usage(define: (p: ReturnType<typeof newProgram>) => void, argv: string[]): Promise<{ code: number; err: string }> {
  const program = newProgram();
  define(program);
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await runProgram(program, argv), err };
  } finally {
    process.stderr.write = write;
  }
}

test('a bad flag: 125, in the docker CLI\'s words with the usage line', async () => {
  const rm = (p: ReturnType<typeof newProgram>) => void p.command('rm').argument('<container...>').option('-f, --force').action(() => {});
  assert.deepEqual(await usage(rm, ['rm', '--bogus', 'x']), { code: 125, err: "unknown flag: --bogus\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth rm --help' for more information\n" });
  assert.deepEqual(await usage(rm, ['rm', '-z', 'x']), { code: 125, err: "unknown shorthand flag: 'z' in -z\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth rm --help' for more information\n" });
  const stop = (p: ReturnType<typeof newProgram>) => void p.command('stop').argument('<container...>').option('-t, --time <seconds>').action(() => {});
  assert.equal((await usage(stop, ['stop', '-t'])).err.split('\n')[0], "flag needs an argument: 't' in -t");
  assert.equal((await usage(stop, ['stop', '--time'])).err.split('\n')[0], 'flag needs an argument: --time');
});

test('a wrong number of arguments or an unknown subcommand: 1, in the docker CLI\'s words', async () => {
  const rm = (p: ReturnType<typeof newProgram>) => void p.command('rm').argument('<container...>').action(() => {});
  assert.deepEqual(await usage(rm, ['rm']), { code: 1, err: "berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information\n" });
  const logs = (p: ReturnType<typeof newProgram>) => void p.command('logs').argument('<container>').action(() => {});
  assert.equal((await usage(logs, ['logs', 'a', 'b'])).err.split('\n')[0], "berth: 'berth logs' requires 1 argument");
  const commit = (p: ReturnType<typeof newProgram>) => void p.command('commit').argument('<container>').argument('[repo]').action(() => {});
  assert.equal((await usage(commit, ['commit', 'a', 'b', 'c'])).err.split('\n')[0], "berth: 'berth commit' requires at least 1 and at most 2 arguments");
  const ps = (p: ReturnType<typeof newProgram>) => void p.command('ps').action(() => {});
  assert.equal((await usage(ps, ['ps', 'x'])).err.split('\n')[0], "berth: 'berth ps' accepts no arguments");
  const volume = (p: ReturnType<typeof newProgram>) => void p.command('volume').command('ls').action(() => {});
  assert.deepEqual(await usage(volume, ['volume', 'nosuch']), { code: 1, err: "berth: unknown command: berth volume nosuch\n\nUsage:  berth volume COMMAND\n\nRun 'berth volume --help' for more information\n" });
});
