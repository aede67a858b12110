/**
 * `npm run backend -- users list|scope …`: the console users in a backend's database — their roles and district
 * scopes (never their tokens) — and a user's scope set by the stored districts' codes or names, e.g. after
 * `import grids` replaced the generated districts (d01 …) with the city's own. A running backend reads a user's
 * record when they sign in: a changed scope applies from the user's next sign-in.
 */
import type { AdminUnit } from '../protocol';
import { parseCli } from '../node-util/cli';
import type { ImportIssue } from './import/report';
import { withStore } from './import/with-store';
import { passwdMain } from './auth/passwd-cli';
import type { UserRecord } from './store/types';

export const usersUsage = `usage: backend users list [--db FILE|URL] [--json]
       backend users scope <userId> <districtCode|districtName|all>... [--db FILE|URL]
       backend users passwd|disable|enable <userId> [--password-file FILE] [--db FILE|URL]   (backend users passwd --help)
  list              every user: id, name, role and district scope (全部 all, or the districts' codes and names)
  scope             set a user's district scope: the stored districts' 6-digit codes (or ids, or names), or all
                    (the whole city); a running backend applies it at the user's next sign-in
  --db FILE|URL     the backend's database (default ./data/backend.sqlite, or ZONGZHI_DATABASE_URL)
exit codes: 0 done, 4 an unknown user or district (nothing changed), 2 bad usage, 3 the database needs a person, 1 other failures`;

const districtsOf = (units: Iterable<AdminUnit>): AdminUnit[] => [...units].filter((u) => u.level === 'district').sort((a, b) => (a.code < b.code ? -1 : 1));
const listed = (districts: AdminUnit[]): string => districts.map((d) => `${d.code} ${d.name}`).join('、') || '（无 none）';
const scopeText = (scope: string[] | null, byId: Map<string, AdminUnit>): string =>
  scope === null ? '全部 all' : scope.length === 0 ? '（无 none）' : scope.map((id) => (byId.has(id) ? `${byId.get(id)!.code} ${byId.get(id)!.name}` : `${id}（不存在 missing）`)).join('、');

/**
 * Users whose scope names districts the imported city does not have: one warning each for the grid import's
 * report, naming the user and the missing district ids.
 */
export function scopeIssues(users: readonly UserRecord[], adminUnits: readonly AdminUnit[]): ImportIssue[] {
  const districts = new Set(adminUnits.filter((u) => u.level === 'district').map((u) => u.id));
  const issues: ImportIssue[] = [];
  for (const user of users) {
    if (user.districtScope === null) continue;
    const missing = user.districtScope.filter((id) => !districts.has(id));
    if (missing.length === 0) continue;
    const none = missing.length === user.districtScope.length;
    issues.push({
      severity: 'warning',
      kind: 'user-scope',
      id: user.id,
      zh: `用户 ${user.id}（${user.name}）的辖区 ${missing.join('、')} 在导入后不存在，${none ? '该用户将看不到任何数据' : '该用户只能看到其余辖区'}；请用 npm run backend -- users scope ${user.id} <区县编码|名称|all> 重新设置`,
      en: `user ${user.id} (${user.name}) has district(s) ${missing.join(', ')} in their scope that the imported city does not have: ${none ? 'they will see nothing' : 'they see only the rest'}; set it with npm run backend -- users scope ${user.id} <district code|name|all>`,
    });
  }
  return issues;
}

export async function usersMain(argv: string[]): Promise<number> {
  // Sign-in (backend/auth/passwd-cli.ts): passwords and disabling, on their own options.
  const sub = argv.find((a) => !a.startsWith('-'));
  if (sub === 'passwd' || sub === 'disable' || sub === 'enable') return passwdMain(sub, argv.filter((_, i) => i !== argv.indexOf(sub)));
  const cli = parseCli({ db: { type: 'string' }, json: { type: 'boolean', default: false } }, usersUsage, argv, true);
  const fail: (message: string) => never = cli.fail;
  const [what, userId, ...names] = cli.positionals;
  if (what !== 'list' && what !== 'scope') fail(what === undefined ? 'users what? (list or scope)' : `unknown users command ${JSON.stringify(what)}: list or scope`);
  if (what === 'list' && userId !== undefined) fail('users list takes no arguments');
  if (what === 'scope' && (userId === undefined || names.length === 0)) fail('users scope <userId> <districtCode|districtName|all>...');
  return withStore(cli.values.db, async (store) => {
    const users = await store.listUsers();
    const { state } = await store.load();
    const districts = districtsOf(state.adminUnits.values());
    const byId = new Map(districts.map((d) => [d.id, d]));
    if (what === 'list') {
      if (cli.values.json) process.stdout.write(JSON.stringify(users.map(({ id, name, role, districtScope }) => ({ id, name, role, districtScope }))) + '\n');
      else for (const u of users) process.stdout.write(`${u.id}\t${u.name}\t${u.role}\t辖区 scope: ${scopeText(u.districtScope, byId)}\n`);
      return 0;
    }
    const user = users.find((u) => u.id === userId);
    if (!user) {
      process.stderr.write(`没有用户 ${userId}（现有：${users.map((u) => u.id).join('、')}） / no user ${userId} (users: ${users.map((u) => u.id).join(', ')})\n`);
      return 4;
    }
    let scope: string[] | null = [];
    const unknown: string[] = [];
    for (const name of names) {
      if (name === 'all') scope = null;
      const district = districts.find((d) => d.code === name || d.id === name || d.name === name);
      if (district && scope !== null && !scope.includes(district.id)) scope.push(district.id);
      else if (!district && name !== 'all') unknown.push(name);
    }
    if (unknown.length > 0) {
      process.stderr.write(`不是已有的区县：${unknown.join('、')}；现有区县：${listed(districts)} / not a stored district: ${unknown.join(', ')}; the districts are: ${listed(districts)}\n`);
      return 4;
    }
    await store.upsertUsers([{ ...user, districtScope: scope }]);
    process.stdout.write(`用户 ${user.id} 的辖区已设为 ${scopeText(scope, byId)}（运行中的后台在其下次登录时生效） / ${user.id}'s scope set to ${scopeText(scope, byId)} (a running backend applies it at their next sign-in)\n`);
    return 0;
  });
}
