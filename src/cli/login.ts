/** `login` and `logout` with Docker's flags and output; the credentials are checked against the registry before they are saved. */
import type { Command } from 'commander';
import { invalidArgument } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { runDefined } from './program.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const login = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('log in to a registry')
    .argument('[server]', 'the registry (default docker.io)')
    .option('-u, --username <username>', 'username')
    .option('-p, --password <password>', 'password')
    .option('--password-stdin', 'take the password from stdin')
    .action(async (server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      let password = o.password;
      if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (o.passwordStdin) {
        if (password !== undefined) throw invalidArgument('--password and --password-stdin are mutually exclusive');
        if (o.username === undefined) throw invalidArgument('Must provide --username with --password-stdin');
        password = (await readStdin()).replace(/\n$/, '').replace(/\r$/, '');
      }
      if (o.username === undefined || password === undefined) {
        if (!process.stdin.isTTY) throw invalidArgument('Cannot perform an interactive login from a non TTY device');
        throw invalidArgument('interactive login is not supported yet: use -u and --password-stdin');
      }
      const reg = await (await engine(g)).registry();
      const r = await reg.login(server, o.username.trim(), password);
      if (!reg.config.raw.credsStore && !reg.config.raw.credHelpers?.[r.domain]) {
        process.stderr.write(`WARNING! Your credentials are stored unencrypted in '${r.file}'.\nConfigure a credential helper to remove this warning.\n\n`);
      }
      process.stdout.write('Login Succeeded\n');
    });

const logout = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('log out from a registry')
    .argument('[server]', 'the registry (default docker.io)')
    .action(async (server: string | undefined) => {
      const reg = await (await engine(g)).registry();
      const r = reg.logout(server);
      process.stdout.write(`Removing login credentials for ${r.domain}\n`);
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { login, logout });
}
