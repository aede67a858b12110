/**
 * 网格员 (field) accounts for the field app: one per staff member, bound to its staff record (users.staff_id).
 * `npm run backend -- users field-accounts [--district <id|code|name>] --out <file.csv>` makes one (login = the
 * staff id) for every staff member (of the district) who has none, each with a random initial password, and
 * writes `login,name,grid,password` to the file (mode 600; an existing file is refused before anything is made).
 * The passwords are never printed; each account is audited as 'user-admin' by the command line.
 */
import { closeSync, openSync, writeSync, fsyncSync } from 'node:fs';
import { randomInt, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Staff } from '../protocol';
import { parseCli } from '../node-util/cli';
import { withStore } from './import/with-store';
import { hashPassword } from './auth/password';
import type { BackendStore, UserRecord } from './store/types';
import { hashToken } from './users';

export const fieldAccountsUsage = `usage: backend users field-accounts --out FILE.csv [--district ID|CODE|NAME] [--db FILE|URL]
  makes a 网格员 (field app) account for every staff member (of the district) who has none: the login is the
  staff id, the initial password random (16 characters); writes login,name,grid,password to FILE.csv (mode 600,
  never overwritten: hand each line to its staff member, then delete the file). Passwords are never printed.
exit codes: 0 done, 4 an unknown district or the file exists (nothing made), 2 bad usage, 3 the database needs a person, 1 other failures`;

/** Letters and digits no one misreads on paper (no 0/O, 1/l/I). */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
export const INITIAL_PASSWORD_LENGTH = 16;

export function initialPassword(): string {
  return Array.from({ length: INITIAL_PASSWORD_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

/** A field account's record for a staff member (its static token random and never told: it signs in with a password). */
export function fieldAccountRecord(staff: Pick<Staff, 'id' | 'name'>, login = staff.id): UserRecord {
  return { id: login, name: staff.name, role: 'field', districtScope: null, tokenHash: hashToken(randomBytes(32).toString('base64url')), departmentId: null, staffId: staff.id };
}

/** Makes a field account for `staff` with `password` (tests, the bench, the bulk command); audited by `by`. */
export async function addFieldAccount(store: BackendStore, staff: Pick<Staff, 'id' | 'name'>, password: string, by = 'cli', login = staff.id): Promise<UserRecord> {
  const record = fieldAccountRecord(staff, login);
  const hash = await hashPassword(password);
  await store.upsertUsers([record]);
  await store.setPassword(record.id, hash);
  await store.audit([{ at: new Date().toISOString(), userId: null, kind: 'user-admin', detail: { action: 'create', by, target: record.id, after: { name: record.name, role: 'field', staffId: staff.id }, passwordSet: true } }]);
  return record;
}

const csvField = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export async function fieldAccountsMain(argv: string[]): Promise<number> {
  const cli = parseCli({ db: { type: 'string' }, out: { type: 'string' }, district: { type: 'string' } }, fieldAccountsUsage, argv, true);
  if (cli.positionals.length > 0) cli.fail(`users field-accounts takes no arguments (got ${cli.positionals.join(' ')})`);
  if (!cli.values.out) cli.fail('users field-accounts needs --out FILE.csv (where the initial passwords go)');
  const out = resolve(cli.values.out!);
  return withStore(cli.values.db, async (store) => {
    const { state } = await store.load();
    const districts = [...state.adminUnits.values()].filter((u) => u.level === 'district');
    const wanted = cli.values.district;
    const district = wanted === undefined ? null : districts.find((d) => d.id === wanted || d.code === wanted || d.name === wanted);
    if (district === undefined) {
      process.stderr.write(`没有区县 ${wanted}（现有：${districts.map((d) => `${d.code} ${d.name}`).join('、')}） / no district ${wanted}\n`);
      return 4;
    }
    // The file first: refused when it exists, before any account is made (mode 600 from its creation).
    let fd: number;
    try {
      fd = openSync(out, 'wx', 0o600);
    } catch (e) {
      const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
      process.stderr.write(exists ? `${out} 已存在，不会覆盖（请换一个文件名） / ${out} exists: it is never overwritten\n` : `无法创建 ${out}：${(e as Error).message} / cannot create the file\n`);
      return 4;
    }
    try {
      const users = await store.listUsers();
      const linked = new Set(users.flatMap((u) => (u.staffId ? [u.staffId] : [])));
      const logins = new Set(users.map((u) => u.id.toLowerCase()));
      const staff = [...state.staff.values()].filter((s) => (district === null || s.districtId === district.id) && !linked.has(s.id)).sort((a, b) => a.id.localeCompare(b.id));
      const clash = staff.filter((s) => logins.has(s.id.toLowerCase()));
      const todo = staff.filter((s) => !logins.has(s.id.toLowerCase()));
      // scrypt on the thread pool, four at a time (~0.1 s and 32 MiB each).
      const made: Array<{ staff: Staff; password: string; hash: string }> = [];
      for (let i = 0; i < todo.length; i += 4) {
        made.push(...(await Promise.all(todo.slice(i, i + 4).map(async (s) => { const password = initialPassword(); return { staff: s, password, hash: await hashPassword(password) }; }))));
      }
      // The passwords are on disk before any account exists (never an account whose password nobody has); then
      // each account is one write with its password (a crash leaves whole accounts, and rows in the file for
      // those not made yet: running it again makes them, with new passwords in a new file).
      const lines = ['login,name,grid,password', ...made.map((m) => [m.staff.id, m.staff.name, state.grids.get(m.staff.gridId)?.name ?? m.staff.gridId, m.password].map(csvField).join(','))];
      writeSync(fd, lines.join('\n') + '\n');
      fsyncSync(fd);
      const at = new Date().toISOString();
      let created = 0;
      for (const m of made) {
        if (!(await store.createUser(fieldAccountRecord(m.staff), m.hash))) continue;
        created++;
        await store.audit([{ at, userId: null, kind: 'user-admin', detail: { action: 'create', by: 'cli', target: m.staff.id, after: { name: m.staff.name, role: 'field', staffId: m.staff.id }, passwordSet: true } }]);
      }
      if (created < made.length) process.stderr.write(`${made.length - created} 个登录名刚被占用，未创建（文件中这些行无效） / ${made.length - created} logins were taken meanwhile: not made (their rows in the file do not apply)\n`);
      process.stdout.write(`已为 ${created} 名网格员创建外勤端账号，初始密码写入 ${out}（仅本人可读，分发后请删除） / ${created} field accounts made; their initial passwords are in ${out} (mode 600: hand them out, then delete it)\n`);
      if (clash.length > 0) process.stderr.write(`${clash.length} 名网格员的工号已被其他账号用作登录名，未创建：${clash.map((s) => s.id).join('、')} / ${clash.length} staff ids are another account's login: not made\n`);
      return 0;
    } finally {
      closeSync(fd);
    }
  });
}
