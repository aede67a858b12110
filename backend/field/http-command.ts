/**
 * What the field app's and the department page's action routes share: the JSON body read and checked with its
 * zod schema (400 naming the field path), the command id derived from the client's own id (a retry from a phone's
 * offline queue runs nothing twice: the pipeline answers a known command id with its first outcome), the command
 * run through the one command pipeline as the signed-in account (the domain checks role and assignment), and the
 * answer as JSON `{code, message}` (Chinese first) or the command's result.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { validate, type RefusalReason, type WireErrorPayload } from '../../protocol';
import type { Actor } from '../../domain';
import type { CommandAnswer } from '../wire/commands';
import { readBody, send } from '../http-answers';

/** The command pipeline (BackendServer.submit). */
export type SubmitCommand = (actor: Actor, commandId: string, type: string, payload: unknown) => Promise<CommandAnswer>;

/** Bodies of these routes are small (a note, a reason, attachment ids). */
export const ACTION_BODY_LIMIT = 32 * 1024;

/** The command id of a client's report or action: the same user, kind and client id always give the same one. */
export function derivedCommandId(userId: string, kind: string, clientId: string): string {
  return `h${createHash('sha256').update(`${userId}\n${kind}\n${clientId.toLowerCase()}`).digest('base64url').slice(0, 40)}`;
}

/** Reads and checks a JSON body; null when refused (answered already: 413, 400 bad JSON or naming the field path). */
export async function readJson<S extends z.ZodType>(req: IncomingMessage, res: ServerResponse, schema: S): Promise<z.output<S> | null> {
  const text = await readBody(req, res, ACTION_BODY_LIMIT);
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    send(res, 400, { code: 'bad-json', message: '请求体不是有效的 JSON / the body is not valid JSON' });
    return null;
  }
  const checked = validate(schema, raw);
  if (!checked.ok) {
    const first = checked.issues[0]!;
    send(res, 400, { code: 'invalid', message: `请求字段 ${first.path} 无效：${first.message} / invalid field ${first.path}`, path: first.path, issues: checked.issues });
    return null;
  }
  return checked.value;
}

const STATUS_OF: Record<string, number> = { invalid: 400, forbidden: 403, conflict: 409, expired: 410 };
const ZH_OF: Record<string, string> = { invalid: '请求无效', forbidden: '无权操作', conflict: '与事件当前状态冲突', expired: '已过期' };

export type CommandResult = { ok: true; result: Record<string, unknown>; duplicate: boolean } | { ok: false; status: number; code: string; message: string; reason?: RefusalReason };

/** Runs a command as the account and says how it went (a refusal with its HTTP status and a Chinese-first message). */
export async function runCommand(submit: SubmitCommand, actor: Actor, commandId: string, type: string, payload: unknown): Promise<CommandResult> {
  const answer = await submit(actor, commandId, type, payload);
  if (answer.ack) return { ok: true, result: answer.ack.result, duplicate: answer.ack.duplicate };
  const error = (JSON.parse(answer.frame) as { payload: WireErrorPayload }).payload;
  const message = /^[\u4e00-\u9fff]/.test(error.message) ? error.message : `${ZH_OF[error.code] ?? '操作失败'}：${error.message}`;
  return { ok: false, status: STATUS_OF[error.code] ?? 500, code: error.code, message, ...(error.reason ? { reason: error.reason } : {}) };
}

/** A refused command's JSON answer: the code, the Chinese-first message, and the reason by key for the page's language. */
export const refusalBody = (done: Extract<CommandResult, { ok: false }>): { code: string; message: string; reason?: RefusalReason } => ({ code: done.code, message: done.message, ...(done.reason ? { reason: done.reason } : {}) });

/** A path segment that names an event (ids are letters, digits and - _ .). */
export const EVENT_ID_SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;
