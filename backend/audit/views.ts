/**
 * The wire's `view` frame (protocol/audit.ts ViewPayload): a console says that its person opened an event's
 * detail, and whether the reporter's personal data was shown unmasked. Written to the audit as kind 'view' with
 * the user, the event, its district, the flag and the console (client id, connection); viewing is audited, not
 * only commands. Checked (schema; an event the city has), and paced per connection: beyond VIEW_BURST at once
 * and VIEW_RATE a second, a view is refused as rate-limited (the console sends it again later).
 */
import { ViewPayload, describeIssues, validate, type Envelope, type WireErrorPayload } from '../../protocol';
import { MASKED_ROLES, inAreaScope, type CityState } from '../../domain';
import { TokenBucket } from '../rate-limit';
import type { AuditEntry } from '../store/types';
import type { Session } from '../wire/session';

export const VIEW_RATE = 5;
export const VIEW_BURST = 30;

export interface ViewAuditOptions {
  state: CityState;
  now: () => Date;
  write(entries: AuditEntry[]): void;
}

export class ViewAudit {
  private readonly buckets = new WeakMap<Session, TokenBucket>();

  constructor(private readonly o: ViewAuditOptions) {}

  /** Records one view frame of a signed-in session; an error to answer when it is refused, else null. */
  record(session: Session, frame: Envelope): WireErrorPayload | null {
    const checked = validate(ViewPayload, frame.payload);
    if (!checked.ok) return { code: 'invalid', message: `bad view: ${describeIssues(checked.issues)}`, inReplyTo: 'view', issues: checked.issues, retryable: false };
    let bucket = this.buckets.get(session);
    if (!bucket) this.buckets.set(session, (bucket = new TokenBucket(VIEW_RATE, VIEW_BURST)));
    if (!bucket.take()) return { code: 'rate-limited', message: `more than ${VIEW_RATE} views per second; send it again later`, inReplyTo: 'view', retryable: true };
    const view = checked.value;
    const actor = session.actor!;
    const event = this.o.state.get('events', view.id);
    // An event that does not exist and one outside the user's area are answered alike (no way to learn which
    // ids exist elsewhere), and the attempt is audited without the event's title.
    if (!event || !inAreaScope(actor.districtScope, event, this.o.state)) {
      this.o.write([{ at: new Date().toISOString(), userId: actor.id, kind: 'view', detail: { what: view.what, eventId: view.id.slice(0, 64), refused: event ? 'outside-scope' : 'no-such-event', clientId: session.clientId, session: session.id } }]);
      return { code: 'forbidden', message: `不能查看事件 ${view.id} / no event ${view.id} in your area`, inReplyTo: 'view', retryable: false };
    }
    this.o.write([
      {
        // Wall-clock time, like every other line the HTTP routes and sign-in write.
        at: new Date().toISOString(),
        userId: actor.id,
        kind: 'view',
        detail: {
          what: view.what,
          eventId: event.id,
          eventTitle: event.title.slice(0, 100),
          districtId: event.districtId,
          // A demo (viewer) or inspector account's windows are masked whatever its console says.
          personal: view.personal && (actor.role === 'system' || !MASKED_ROLES.has(actor.role)),
          hasReporter: event.reporter !== null,
          role: actor.role,
          clientId: session.clientId,
          session: session.id,
          ...(view.openedAt ? { openedAt: view.openedAt } : {}),
        },
      },
    ]);
    return null;
  }
}
