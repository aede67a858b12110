/**
 * `npm run backend -- users passwd <userId> [--password-file FILE]`: sets a user's password (never from the command
 * line, where other users and the shell history could read it): from the file, or from standard input (the first
 * line). `users disable|enable <userId>`: a disabled user is refused at sign-in and with a static token, and their
 * sessions end. Each change is audited.
 */
import { readFileSync } from 'node:fs';
import { parseCli } from '../../node-util/cli';
import { withStore } from '../import/with-store';
import { hashPassword, passwordProblem } from './password';

export const passwdUsage = `usage: backend users passwd <userId> [--password-file FILE] [--db FILE|URL]
       backend users disable|enable <userId> [--db FILE|URL]
  passwd            set a user's password for signing in at a console: read from --password-file or from
                    standard input (the first line), never from the command line; at least 10 characters
  disable, enable   refuse a user everywhere (sign-in, static token; their sessions end), or allow them again
exit codes: 0 done, 4 an unknown user or an unacceptable password (nothing changed), 2 bad usage, 3 the database needs a person, 1 other failures`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > 64 * 1024) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The first line, without its line ending. */
const firstLine = (text: string): string => text.split(/\r?\n/, 1)[0] ?? '';

export async function passwdMain(what: 'passwd' | 'disable' | 'enable', argv: string[]): Promise<number> {
  const cli = parseCli({ db: { type: 'string' }, 'password-file': { type: 'string' } }, passwdUsage, argv, true);
  const [userId, ...rest] = cli.positionals;
  if (userId === undefined || rest.length > 0) cli.fail(`users ${what} <userId>${rest.length > 0 ? '（密码不能写在命令行上，请用标准输入或 --password-file / the password is never taken from the command line: use standard input or --password-file）' : ''}`);
  if (what !== 'passwd' && cli.values['password-file'] !== undefined) cli.fail(`users ${what} takes no password`);
  let password = '';
  if (what === 'passwd') {
    const file = cli.values['password-file'];
    try {
      password = firstLine(file !== undefined ? readFileSync(file, 'utf8') : await readStdin());
    } catch (e) {
      process.stderr.write(`读不了密码文件 ${file}：${(e as Error).message} / cannot read the password file\n`);
      return 4;
    }
    const problem = passwordProblem(password);
    if (problem) {
      process.stderr.write(`密码未设置：${problem}\n`);
      return 4;
    }
  }
  return withStore(cli.values.db, async (store) => {
    const login = await store.findLogin(userId!);
    if (!login) {
      const users = (await store.listUsers()).map((u) => u.id);
      process.stderr.write(`没有用户 ${userId}（现有：${users.join('、')}） / no user ${userId} (users: ${users.join(', ')})\n`);
      return 4;
    }
    const at = new Date().toISOString();
    if (what === 'passwd') {
      await store.setPassword(userId!, await hashPassword(password));
      await store.audit([{ at, userId: null, kind: 'password-set', detail: { user: userId, by: 'command-line' } }]);
      process.stdout.write(`用户 ${userId}（${login.user.name}）的密码已设置，可在调度台登录 / ${userId}'s password is set: they can sign in at a console\n`);
      return 0;
    }
    await store.setUserDisabled(userId!, what === 'disable', at);
    await store.audit([{ at, userId: null, kind: 'password-set', detail: { user: userId, by: 'command-line', disabled: what === 'disable' } }]);
    process.stdout.write(what === 'disable' ? `用户 ${userId} 已停用，其登录会话已结束 / ${userId} is disabled; their sessions ended\n` : `用户 ${userId} 已启用 / ${userId} is enabled again\n`);
    return 0;
  });
}
