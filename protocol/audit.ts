/**
 * The audit log as it is read (审计): the query of GET /audit and GET /audit.csv (the backend checks it with
 * this schema; the Hub API's readAudit takes the same), one page of entries newest first, and the view frame a
 * console sends when a person opens an event (who saw what, and whether personal data was shown unmasked).
 * The log itself is append-only: nothing here edits it.
 */
import { z } from 'zod';
import { IsoTime } from './model';

/** Entries per page: at most this many, whatever is asked. */
export const AUDIT_PAGE_MAX = 200;
export const AUDIT_PAGE_DEFAULT = 50;
/** Rows of one CSV export at most (the newest, matching the filters); the file says when it was cut. */
export const AUDIT_CSV_MAX_ROWS = 10_000;

/** What the backend writes today; a kind the console does not know is shown as it is. */
export const AUDIT_KINDS = ['login', 'login-refused', 'command', 'command-rejected', 'command-refused', 'disconnect', 'sensitive-read', 'import', 'view', 'audit-read', 'sign-in', 'sign-in-refused', 'lockout', 'sign-out', 'session-expired', 'password-set', 'stream-refused', 'attachment-refused', 'user-admin', 'api-key-admin', 'api-key-misuse', 'webhook-failed', 'history-read'] as const;

/** A kind as a filter: a known one, or any word of the same shape (a newer backend may write more). */
const KindWord = z.string().regex(/^[a-z][a-z-]{0,39}$/, 'kind: a word such as view, command, login');
/** "at|id" of the last entry of the page before (opaque to readers). */
export const AuditCursor = z.string().regex(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d{1,15}$/, 'cursor: the nextCursor of the page before');

/** The filters, as one query string's parameters (all optional). */
export const AuditQuery = z
  .object({
    /** A user id, exactly. */
    user: z.string().trim().min(1).max(64).optional(),
    kind: KindWord.optional(),
    /** An event id: entries whose detail names it (views, commands on it). */
    event: z.string().trim().min(1).max(64).optional(),
    /** From this time on (inclusive), until this time (exclusive). */
    from: IsoTime.optional(),
    to: IsoTime.optional(),
    /** Free text found anywhere in the entry (user, kind, detail). */
    q: z.string().trim().min(1).max(100).optional(),
    cursor: AuditCursor.optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['from'] });
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditRow = z.object({
  /** The entry's number in the log (grows with every line written). */
  id: z.number().int().nonnegative(),
  at: IsoTime,
  userId: z.string().nullable(),
  /** The user's name now (null: no user, or one no longer known). */
  userName: z.string().nullable(),
  kind: z.string().max(40),
  /** Which console: the client name it gave, else its client id (null when the entry does not say). */
  client: z.string().max(100).nullable(),
  /** The event the entry is about, when it names one. */
  eventId: z.string().max(64).nullable(),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditRow = z.infer<typeof AuditRow>;

export const AuditPage = z.object({
  entries: z.array(AuditRow).max(AUDIT_PAGE_MAX),
  /** Pass as `cursor` for the next (older) page; null when this is the last. */
  nextCursor: AuditCursor.nullable(),
});
export type AuditPage = z.infer<typeof AuditPage>;

/**
 * Client → server `view`: a person opened an event's detail at this console. `personal`: the reporter's name or
 * phone was shown unmasked. Written to the audit as kind 'view' with the user, the event's district and the
 * console; no answer unless refused (an error frame with inReplyTo "view").
 */
export const ViewPayload = z
  .object({
    what: z.literal('event'),
    id: z.string().min(1).max(64),
    personal: z.boolean(),
    /** When the window opened it (a view queued while offline is sent later). */
    openedAt: IsoTime.optional(),
  })
  .strict();
export type ViewPayload = z.infer<typeof ViewPayload>;

/** The Hub API's audit filters (readAudit; exportAudit without cursor and limit): the query's, as an object. */
export const AuditFilters = AuditQuery;
export type AuditFilters = z.input<typeof AuditQuery>;

/** What exportAudit answers: the CSV file's text (with its byte-order mark) and how many rows it holds. */
export const AuditCsv = z.object({
  csv: z.string(),
  fileName: z.string().max(100),
  rows: z.number().int().nonnegative().max(AUDIT_CSV_MAX_ROWS),
  /** True when more entries matched than one file holds (the newest AUDIT_CSV_MAX_ROWS are in it). */
  truncated: z.boolean(),
});
export type AuditCsv = z.infer<typeof AuditCsv>;
