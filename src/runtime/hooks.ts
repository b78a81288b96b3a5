/** Hooks the runtime runs itself (prestart, createRuntime, poststart, poststop), state on stdin. */
import { spawn } from 'node:child_process';
import { BerthError } from '../lib/errors.js';
import type { Hook, State } from '../oci/runtime-spec.js';

export async function runHook(kind: string, index: number, h: Hook, state: State): Promise<void> {
  const args = h.args && h.args.length > 0 ? h.args : [h.path];
  const env: Record<string, string> = {};
  for (const e of h.env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  const what = `${kind} hook ${index} ${JSON.stringify(h.path)}`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(h.path, args.slice(1), { argv0: args[0], env, stdio: ['pipe', 'inherit', 'pipe'] });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (h.timeout) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new BerthError('Unavailable', `${what}: timed out after ${h.timeout} s`));
      }, h.timeout * 1000);
    }
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new BerthError('FailedPrecondition', `${what}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal ? `killed by ${signal}` : `exit status ${code}`;
        const tail = stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : '';
        reject(new BerthError('FailedPrecondition', `${what}: ${why}${tail}`));
      }
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(state));
  });
}

/** Runs hooks in order; the first failure stops them and is thrown. */
export async function runHooks(kind: string, hooks: Hook[] | undefined, state: State): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) await runHook(kind, i, h, state);
}

/**
 * Runs every hook in order whatever happens (poststart, poststop: a failure is a warning and the
 * lifecycle goes on); returns the warnings.
 */
export async function runHooksAll(kind: string, hooks: Hook[] | undefined, state: State): Promise<string[]> {
  const warnings: string[] = [];
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      await runHook(kind, i, h, state);
    } catch (e) {
      warnings.push((e as Error).message);
    }
  }
  return warnings;
}
