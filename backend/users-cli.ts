/**
 * `npm run backend -- users list|scope …`: the console users in a backend's database — their roles and area
 * scopes (never their tokens) — and a user's scope set by the stored districts', streets' or communities' codes
 * (6, 9 or 12 digits), ids or names, e.g. after `import grids` replaced the generated districts (d01 …) with the
 * city's own. A running backend reads a user's
 * record when they sign in: a changed scope applies from the user's next sign-in.
 */
import type { AdminUnit } from '../protocol';
import { parseCli } from '../node-util/cli';
import type { ImportIssue } from './import/report';
import { withStore } from './import/with-store';
import { passwdMain } from './auth/passwd-cli';
import { fieldAccountsMain } from './users-field';
import type { UserRecord } from './store/types';

export const usersUsage = `usage: backend users list [--db FILE|URL] [--json]
       backend users scope <userId> <code|id|name|all>... [--db FILE|URL]
       backend users passwd|disable|enable <userId> [--password-file FILE] [--db FILE|URL]   (backend users passwd --help)
       backend users field-accounts --out FILE.csv [--district ID|CODE|NAME] [--db FILE|URL]   (backend users field-accounts --help)
  list              every user: id, name, role and area scope (全部 all, or each unit's code, name and level)
  scope             set a user's area scope: stored districts, streets or communities by their 6-, 9- or 12-digit
                    codes (or ids, or names; a name two units share is refused, give the code), or all (the whole
                    city); a street or community user sees the records placed in its grids; a running backend
                    applies it at the user's next sign-in
  --db FILE|URL     the backend's database (default ./data/backend.sqlite, or ZONGZHI_DATABASE_URL)
exit codes: 0 done, 4 an unknown user or unit, or an ambiguous name (nothing changed), 2 bad usage, 3 the database needs a person, 1 other failures`;

const SCOPE_LEVELS = ['district', 'street', 'community'] as const;
const LEVEL_TEXT: Record<string, string> = { district: '区县 district', street: '街道 street', community: '社区 community' };
const byCode = (a: AdminUnit, b: AdminUnit): number => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
const unitsOf = (units: Iterable<AdminUnit>, level: AdminUnit['level']): AdminUnit[] => [...units].filter((u) => u.level === level).sort(byCode);
const listed = (units: AdminUnit[], max = units.length): string =>
  units.length === 0 ? '（无 none）' : units.slice(0, max).map((d) => `${d.code} ${d.name}`).join('、') + (units.length > max ? ` 等 ${units.length} 个 (${units.length} in all)` : '');
const scopeText = (scope: string[] | null, byId: Map<string, AdminUnit>): string =>
  scope === null
    ? '全部 all'
    : scope.length === 0
      ? '（无 none）'
      : scope.map((id) => (byId.has(id) ? `${byId.get(id)!.code} ${byId.get(id)!.name}（${LEVEL_TEXT[byId.get(id)!.level]}）` : `${id}（不存在 missing）`)).join('、');

/**
 * Users whose scope names units (districts, streets, communities) the imported city does not have: one warning
 * each for the grid import's report, naming the user and the missing ids.
 */
export function scopeIssues(users: readonly UserRecord[], adminUnits: readonly AdminUnit[]): ImportIssue[] {
  const districts = new Set(adminUnits.filter((u) => (SCOPE_LEVELS as readonly string[]).includes(u.level)).map((u) => u.id));
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
  // 网格员 accounts for the field app, in bulk (users-field.ts).
  if (sub === 'field-accounts') return fieldAccountsMain(argv.filter((_, i) => i !== argv.indexOf(sub)));
  const cli = parseCli({ db: { type: 'string' }, json: { type: 'boolean', default: false } }, usersUsage, argv, true);
  const fail: (message: string) => never = cli.fail;
  const [what, userId, ...names] = cli.positionals;
  if (what !== 'list' && what !== 'scope') fail(what === undefined ? 'users what? (list or scope)' : `unknown users command ${JSON.stringify(what)}: list or scope`);
  if (what === 'list' && userId !== undefined) fail('users list takes no arguments');
  if (what === 'scope' && (userId === undefined || names.length === 0)) fail('users scope <userId> <code|id|name|all>...');
  return withStore(cli.values.db, async (store) => {
    const users = await store.listUsers();
    const { state } = await store.load();
    const districts = unitsOf(state.adminUnits.values(), 'district');
    const streets = unitsOf(state.adminUnits.values(), 'street');
    const communities = unitsOf(state.adminUnits.values(), 'community');
    const scopable = [...districts, ...streets, ...communities];
    const byId = new Map(scopable.map((d) => [d.id, d]));
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
    const ambiguous: string[] = [];
    for (const name of names) {
      if (name === 'all') {
        scope = null;
        continue;
      }
      // A code or an id names one unit; a name may be two streets' or communities' (then the code is asked for).
      const exact = scopable.find((u) => u.code === name || u.id === name);
      const named = exact ? [exact] : scopable.filter((u) => u.name === name);
      if (named.length === 0) unknown.push(name);
      else if (named.length > 1) ambiguous.push(`${name}：${named.map((u) => `${u.code}（${LEVEL_TEXT[u.level]}）`).join('、')}`);
      else if (scope !== null && !scope.includes(named[0]!.id)) scope.push(named[0]!.id);
    }
    if (unknown.length > 0) {
      process.stderr.write(
        `不是已有的区县：${unknown.join('、')}；现有区县：${listed(districts)}；街道：${listed(streets, 40)}；社区：${listed(communities, 20)}（街道 9 位、社区 12 位编码） / ` +
          `not a stored district: ${unknown.join(', ')}; the districts are: ${listed(districts)}; streets and communities by their 9- and 12-digit codes or names (listed above)\n`,
      );
      return 4;
    }
    if (ambiguous.length > 0) {
      process.stderr.write(`名称不唯一，请用编码：${ambiguous.join('；')} / a name several units share: give the code (${ambiguous.join('; ')})\n`);
      return 4;
    }
    await store.upsertUsers([{ ...user, districtScope: scope }]);
    process.stdout.write(`用户 ${user.id} 的辖区已设为 ${scopeText(scope, byId)}（运行中的后台在其下次登录时生效） / ${user.id}'s scope set to ${scopeText(scope, byId)} (a running backend applies it at their next sign-in)\n`);
    return 0;
  });
}
