/**
 * `npm run backend -- api-keys create|list|revoke`: source systems' API keys from the command line (the same as
 * the administrator's 接入密钥 panel). `create` prints the new key — the only time it is ever shown — alone on
 * standard output (so `KEY=$(… api-keys create …)` captures it); everything else goes to standard error. Each
 * creation and revocation is audited as 'api-key-admin' by 'cli'.
 */
import { parseCli } from '../../node-util/cli';
import { API_KEY_RATE_DEFAULT, API_KEY_RATE_MAX, ApiKeySource, CreateApiKeyRequest, validate } from '../../protocol';
import { withStore } from '../import/with-store';
import { apiKeyAudit } from '../admin-api-keys';
import { apiKeyRow, newApiKey } from './api-keys';

export const apiKeysUsage = `usage: backend api-keys create --name NAME --source SOURCE [--rate N] [--webhook URL] [--db FILE|URL]
       backend api-keys list [--db FILE|URL]
       backend api-keys revoke <id> [--db FILE|URL]
  create            a key for a source system; the key is printed once, alone on standard output
                    (sources: ${ApiKeySource.options.join(', ')}; --rate: requests a minute, 1–${API_KEY_RATE_MAX}, default ${API_KEY_RATE_DEFAULT};
                    --webhook: an http(s) URL told when an event the key reported is closed; its signing secret is printed once on standard error)
  list              every key: id, prefix, name, source, rate, created, last used, revoked (never a key)
  revoke            the key is refused from now on (403 revoked); an id made before ids were letters and digits
                    only may start with -: give it after --, as in revoke -- -Ab3xY9q
  --db FILE|URL     the backend's database (default ./data/backend.sqlite, or ZONGZHI_DATABASE_URL)
exit codes: 0 done, 4 an unknown or revoked key, or a bad name/source/rate (nothing changed), 2 bad usage, 3 the database needs a person, 1 other failures`;

const say = (line: string): void => void process.stderr.write(`${line}\n`);

export async function apiKeysMain(argv: string[]): Promise<number> {
  const cli = parseCli({ db: { type: 'string' }, name: { type: 'string' }, source: { type: 'string' }, rate: { type: 'string' }, webhook: { type: 'string' } }, apiKeysUsage, argv, true);
  const [what, id, ...rest] = cli.positionals;
  if (what !== 'create' && what !== 'list' && what !== 'revoke') return cli.fail(what === undefined ? 'api-keys what? (create, list or revoke)' : `unknown api-keys command ${JSON.stringify(what)}: create, list or revoke`);
  if (rest.length > 0 || (what !== 'revoke' && id !== undefined)) cli.fail(`api-keys ${what}: too many arguments`);
  if (what === 'revoke' && id === undefined) cli.fail('api-keys revoke <id>');
  if (what === 'create') {
    const rate = cli.values.rate === undefined ? undefined : Number(cli.values.rate);
    const body = validate(CreateApiKeyRequest, { name: cli.values.name ?? '', source: cli.values.source, ...(rate !== undefined ? { ratePerMinute: rate } : {}), ...(cli.values.webhook !== undefined ? { webhookUrl: cli.values.webhook } : {}) });
    if (!body.ok) {
      say(`接入密钥未创建：${body.issues.map((i) => `${i.path === 'ratePerMinute' ? '--rate' : i.path === 'webhookUrl' ? '--webhook' : `--${i.path}`} ${i.message}`).join('；')} / not created`);
      return 4;
    }
    return withStore(cli.values.db, async (store) => {
      const { key, record, webhookSecret } = newApiKey({ ...body.value, createdBy: 'cli', at: new Date().toISOString() });
      await store.createApiKey(record);
      await store.audit([apiKeyAudit(null, { action: 'create', target: record.id, name: record.name, source: record.source, ratePerMinute: record.ratePerMinute, webhookUrl: record.webhookUrl, by: 'cli' })]);
      say(`接入密钥 ${record.id}（${record.name}，${record.source}，每分钟 ${record.ratePerMinute} 次）已创建；密钥只显示这一次 / created; the key is shown this once:`);
      if (webhookSecret) say(`回调 ${record.webhookUrl} 的签名密钥（只显示这一次） / the webhook's signing secret, shown once: ${webhookSecret}`);
      process.stdout.write(`${key}\n`);
      return 0;
    });
  }
  return withStore(cli.values.db, async (store) => {
    const keys = await store.listApiKeys();
    if (what === 'list') {
      if (keys.length === 0) say('（没有接入密钥 no API keys）');
      for (const k of keys.map(apiKeyRow)) say(`${k.id}\t${k.prefix}\t${k.name}\t${k.source}\t${k.ratePerMinute}/min\t创建 ${k.createdAt} ${k.createdBy}\t最近使用 ${k.lastUsedAt ?? '—'}\t${k.revokedAt ? `已吊销 revoked ${k.revokedAt} ${k.revokedBy}` : '有效 active'}`);
      return 0;
    }
    const key = keys.find((k) => k.id === id);
    if (!key) {
      say(`没有接入密钥 ${id} / no API key ${id}`);
      return 4;
    }
    if (!(await store.revokeApiKey(key.id, new Date().toISOString(), 'cli'))) {
      say(`接入密钥 ${key.id}（${key.name}）已经吊销 / revoked already`);
      return 4;
    }
    await store.audit([apiKeyAudit(null, { action: 'revoke', target: key.id, name: key.name, source: key.source, by: 'cli' })]);
    say(`接入密钥 ${key.id}（${key.name}）已吊销 / revoked`);
    return 0;
  });
}
