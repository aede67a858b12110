/**
 * The PostgreSQL store's writes of the log (pg-store.ts runs them inside its transactions): a committed batch
 * (records, the change log, its command and audit lines, announced to the other instances in one round trip),
 * a command's record, an audit line; and reading a command back by its id (a resent command is answered again).
 */
import type pg from 'pg';
import type { Change } from '../../protocol';
import type { AuditEntry, CommandRecord, CommitBatch } from './types';
import { COMMIT_CHANNEL } from './pg-cluster';
import { insertCallsIn } from './call-rows';

type Client = pg.PoolClient;

/** Writes one batch after `last` and announces it to the other instances (delivered when it commits). */
export async function commitIn(client: Client, batch: CommitBatch, last: number): Promise<void> {
  if (batch.seq <= last) throw new Error(`seq ${batch.seq} is not after ${last}`);
  // The last change of each record wins (as applying them in order would), so that one statement can write all.
  const final = new Map<string, Change>();
  for (const change of batch.changes) {
    const key = `${change.collection}\u0000${change.id}`;
    final.delete(key);
    final.set(key, change);
  }
  const upserts = [...final.values()].flatMap((c) => (c.op === 'upsert' ? [{ collection: c.collection, id: c.id, data: c.data }] : []));
  const removals = [...final.values()].flatMap((c) => (c.op === 'remove' ? [{ collection: c.collection, id: c.id }] : []));
  const command = batch.command ? [{ command_id: batch.command.commandId, user_id: batch.command.userId, type: batch.command.type, outcome: batch.command.outcome, at: batch.command.at }] : [];
  const audit = (batch.audit ?? []).map((e) => ({ at: e.at, user_id: e.userId, kind: e.kind, detail: e.detail }));
  const links = (batch.attachmentLinks ?? []).map((l) => ({ attachment_id: l.attachmentId, event_id: l.eventId }));
  // One round trip for the whole batch (a command's turn is on every instance's critical path).
  await client.query(
    `WITH
       up AS (INSERT INTO entities (collection, id, data) SELECT x.collection, x.id, x.data FROM json_to_recordset($1::json) AS x(collection text, id text, data json)
              ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data RETURNING 1),
       rm AS (DELETE FROM entities e USING json_to_recordset($2::json) AS x(collection text, id text) WHERE e.collection = x.collection AND e.id = x.id RETURNING 1),
       ch AS (INSERT INTO changes (seq, at, changes) VALUES ($3, $4, $5) RETURNING 1),
       cmd AS (INSERT INTO commands (command_id, user_id, type, outcome, at)
               SELECT x.command_id, x.user_id, x.type, x.outcome, x.at FROM json_to_recordset($6::json) AS x(command_id text, user_id text, type text, outcome json, at text) RETURNING 1),
       au AS (INSERT INTO audit (at, user_id, kind, detail)
              SELECT t.e->>'at', t.e->>'user_id', t.e->>'kind', t.e->'detail' FROM json_array_elements($7::json) WITH ORDINALITY AS t(e, n) ORDER BY t.n RETURNING 1),
       al AS (INSERT INTO attachment_links (attachment_id, event_id) SELECT x.attachment_id, x.event_id FROM json_to_recordset($10::json) AS x(attachment_id text, event_id text)
              ON CONFLICT DO NOTHING RETURNING 1)
     SELECT pg_notify($8, $9)`,
    [JSON.stringify(upserts), JSON.stringify(removals), batch.seq, batch.at, JSON.stringify(batch.changes), JSON.stringify(command), JSON.stringify(audit), COMMIT_CHANNEL, String(batch.seq), JSON.stringify(links)],
  );
  // A logged call (call.log) is kept in the same transaction: the notification above is sent only when it commits.
  if (batch.calls?.length) await insertCallsIn(client, batch.calls);
}

export async function findCommandIn(client: Client | pg.Pool, commandId: string): Promise<CommandRecord | null> {
  const { rows } = await client.query<{ command_id: string; user_id: string; type: string; outcome: CommandRecord['outcome']; at: string }>('SELECT * FROM commands WHERE command_id = $1', [commandId]);
  const row = rows[0];
  return row ? { commandId: row.command_id, userId: row.user_id, type: row.type, outcome: row.outcome, at: row.at } : null;
}

export async function insertCommand(client: Client, record: CommandRecord): Promise<void> {
  await client.query('INSERT INTO commands (command_id, user_id, type, outcome, at) VALUES ($1, $2, $3, $4, $5)', [record.commandId, record.userId, record.type, JSON.stringify(record.outcome), record.at]);
}

export async function insertAudit(client: Client, entry: AuditEntry): Promise<void> {
  await client.query('INSERT INTO audit (at, user_id, kind, detail) VALUES ($1, $2, $3, $4)', [entry.at, entry.userId, entry.kind, JSON.stringify(entry.detail)]);
}
