/**
 * Requests inside a call's dialog: the recovery re-INVITE after a drop (with an ICE restart, to the far end's
 * address of record), the hold/resume re-INVITE, and the REFER of a transfer with the Refer-To of an attended one (Replaces).
 */
import { NameAddrHeader, SessionState, UserAgent, type Session, type URI } from 'sip.js';
import type { SessionDescriptionHandlerOptions } from 'sip.js/lib/platform/web';
import type { CallInfo, CallRecord, CallResult } from './phone-types';

/** What the phone does when a dialog request settles a call. */
export interface DialogHooks {
  end(id: string, result: CallResult, cause: string): void;
  recovered(record: CallRecord): void;
}

/** sip.js keeps a dialog's remote target in protected state and offers no setter. */
function setRemoteTarget(dialog: NonNullable<Session['dialog']>, target: URI): void {
  (dialog as unknown as { dialogState: { remoteTarget: URI } }).dialogState.remoteTarget = target;
}

/**
 * The recovery re-INVITE, with an ICE restart. It names the far end's address of record, not its contact:
 * the contact's alias names the connection it had, which is gone when the far end or the server
 * reconnected; the server finds the far end again by its registration (resources/sip/kamailio.cfg).
 * Retried while the far end is not registered again yet, until the recovery limit ends the call.
 */
export function reInvite(record: CallRecord, hooks: DialogHooks): void {
  const dialog = record.session.dialog;
  if (!dialog || record.info.state !== 'reconnecting') return;
  setRemoteTarget(dialog, record.session.remoteIdentity.uri.clone());
  record.session.sessionDescriptionHandlerOptionsReInvite = { hold: record.info.held, offerOptions: { iceRestart: true } } as SessionDescriptionHandlerOptions;
  const retry = (ms: number): void => void setTimeout(() => reInvite(record, hooks), ms);
  record.session
    .invite({
      requestDelegate: {
        onAccept: (response) => {
          // The answer's Contact is where the far end is now (sip.js refreshes the target only as the
          // receiver of a re-INVITE): later requests, the BYE, go there, not to the address of record.
          const contact: unknown = response.message.parseHeader('contact');
          if (contact instanceof NameAddrHeader) setRemoteTarget(dialog, contact.uri);
          hooks.recovered(record);
        },
        onReject: (r) => {
          const code = r.message.statusCode ?? 0;
          if (code === 491) return retry(500 + Math.random() * 1500);
          // Not registered again yet, its connection not up yet, or a server just restarted and still finding its
          // feet (a 500 while the far end's registration is missing): try again shortly, until the recovery limit.
          if (code === 404 || code === 408 || code === 480 || code === 477 || code === 500 || code === 503) return retry(1000);
          hooks.end(record.info.id, 'failed', `re-INVITE refused: ${code} ${r.message.reasonPhrase}`);
          record.session.bye().catch(() => undefined);
        },
      },
    })
    .catch(() => retry(1000));
}

export async function refer(record: CallRecord, target: Parameters<Session['refer']>[0], hooks: DialogHooks): Promise<void> {
  record.transferring = true;
  await new Promise<void>((resolve, reject) => {
    record.session
      .refer(target, {
        requestDelegate: {
          onAccept: () => resolve(),
          onReject: (r) => reject(new Error(`transfer refused: ${r.message.statusCode} ${r.message.reasonPhrase}`)),
        },
      })
      .catch(reject);
  }).catch((e: Error) => {
    record.transferring = false;
    throw e;
  });
  hooks.end(record.info.id, 'transferred', '');
  if (record.session.state === SessionState.Established) record.session.bye().catch(() => undefined);
}

/** Hold: re-INVITE with sendonly (the far end stops sending and hears nothing); resume: sendrecv again. */
export async function holdReInvite(session: Session, held: boolean): Promise<void> {
  session.sessionDescriptionHandlerOptionsReInvite = { hold: held } as SessionDescriptionHandlerOptions;
  await new Promise<void>((resolve, reject) => {
    session.invite({ requestDelegate: { onAccept: () => resolve(), onReject: (r) => reject(new Error(`${r.message.statusCode} ${r.message.reasonPhrase}`)) } }).catch(reject);
  });
}

/**
 * Refer-To for an attended transfer: the colleague's address of record (sip.js would name their device's
 * contact, which the transferee then shows and logs as a random user), with Replaces for the consultation
 * dialog. A URI with headers must travel in name-addr form (<…>), which sip.js writes only for its own
 * contact-based Refer-To: this one writes itself so, with the colleague's name for the transferee's screen.
 */
export function replacingReferTo(consult: CallInfo, dialog: NonNullable<Session['dialog']>, domain: string): URI {
  const target = UserAgent.makeURI(`sip:${consult.peer}@${domain}`)!;
  target.setHeader('Replaces', encodeURIComponent(`${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`));
  const uri = target.toString();
  const name = consult.peerName.replace(/["\\\r\n]/g, '');
  target.toString = () => `${name ? `"${name}" ` : ''}<${uri}>`;
  return target;
}
