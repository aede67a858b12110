/**
 * The simulated people live: each acts over HTTP to this backend (127.0.0.1) on the routes real people and systems
 * use — a grid staff member with a field account of their own on /field/api/*, a department's liaison account on
 * /department/api/*, each platform with an API key of its own on /api/v1/reports. HTTP rather than calling the
 * handlers in-process: every check those routes make (the bearer and its app, the body's schema, the staff link,
 * the key's rate, the idempotency key) runs for the simulator exactly as for a phone, with nothing to keep in step.
 *
 * The accounts are made when first needed, only while the simulator runs (the demo, --simulate) on the instance
 * that leads (city-life.ts): ids start with `sim-` (people.ts), no password (nobody signs in as one), a random token
 * per lead kept in this object's memory only (never logged, never stored but as its hash).
 *
 * The lead moves between the instances of a city (several backends on one PostgreSQL). Whoever takes it — with the
 * simulator or without — first replaces every `sim-` account's token and revokes every simulator key
 * (releaseSimulatedAccounts): what another instance (or this one, in an earlier lead) cached is dead, and its new
 * tokens and keys are made afresh as needed. An instance that loses the lead forgets its own and writes nothing
 * (the new leader's work); one that stops while leading releases what it made before it lets the lead go. A token
 * or key answered 401/403 (replaced meanwhile) is dropped and made again, once per request.
 *
 * A staff member a real account holds (one account per staff member) is not played: their person acts for them.
 * An administrator linking a played staff member takes the staff member from the simulator's account
 * (letSimulatorGo below): the simulator's token then fails, and making it again finds the staff member taken.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { API_V1_REPORTS_PATH, type Staff } from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { BackendStore, UserRecord } from '../store/types';
import { hashToken } from '../users';
import { newApiKey } from '../auth/api-keys';
import { SIM_ACCOUNT_PREFIX, SIM_LIAISON_NAME, SIM_SOURCE_NAMES, simLiaisonUserId, simStaffUserId, type Outcome, type SimPeople, type SimSource } from './people';

/** Who made the simulator's API keys (the key list's 创建人). */
export const SIM_KEY_CREATOR = 'simulator';
/** How often the staff held by real accounts are looked up again. */
const LINKS_REFRESH_MS = 30_000;
const REQUEST_TIMEOUT_MS = 15_000;

export interface LivePeopleOptions {
  store: Pick<BackendStore, 'listUsers' | 'upsertUsers' | 'listApiKeys' | 'createApiKey' | 'revokeApiKey' | 'removeRevokedApiKeys'>;
  state: CityState;
  /** This backend's HTTP port (known once it listens). */
  port: () => number;
  log: Logger;
}

/** The credentials of one lead of this instance: made after `ready` (the takeover's release), forgotten with it. */
interface Term {
  /** False while this instance does not lead: nobody is played, nothing is made. */
  readonly active: boolean;
  readonly ready: Promise<void>;
  readonly tokens: Map<string, Promise<string | null>>;
  readonly keys: Map<SimSource, Promise<string | null>>;
  /** What this term stored: each account's token hash, each key's id (released on stop, nothing else). */
  readonly made: { hashes: Map<string, string>; keyIds: Set<string> };
}

const newTerm = (active: boolean, ready: Promise<void> = Promise.resolve()): Term => ({ active, ready, tokens: new Map(), keys: new Map(), made: { hashes: new Map(), keyIds: new Set() } });

export class LivePeople implements SimPeople {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private term: Term = newTerm(false);
  /** Staff held by a real account (not played), and when that was last read. */
  private realLinks = new Set<string>();
  private linksReadAt = 0;
  private reports = 0;
  private readonly run = Date.now().toString(36);
  requests = 0;
  refused = 0;
  /** Bearers answered 401/403 and made again (another leader replaced them meanwhile). */
  remade = 0;

  constructor(private readonly o: LivePeopleOptions) {}

  plays(staffId: string): boolean {
    return !this.realLinks.has(staffId);
  }

  /**
   * This instance takes the lead: every simulated account's token replaced (and its staff let go) and every
   * simulator key revoked, then its own made as the simulator (or a scenario) needs them. Resolves once released.
   */
  takeLead(): Promise<void> {
    const ready = releaseSimulatedAccounts(this.o.store).catch((e: unknown) => this.o.log.warn('simulated accounts not released on taking the lead', { error: (e as Error).message.slice(0, 200) }));
    this.term = newTerm(true, ready);
    this.linksReadAt = 0;
    return ready;
  }

  /** This instance lost the lead: it forgets its tokens and keys and writes nothing (the new leader replaces them). */
  loseLead(): void {
    this.term = newTerm(false);
  }

  /** The current lead's release, done (a start waits for it). */
  settled(): Promise<void> {
    return this.term.ready;
  }

  /** Reads which staff members real accounts hold (at most every LINKS_REFRESH_MS). */
  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.linksReadAt < LINKS_REFRESH_MS) return;
    this.linksReadAt = Date.now();
    const users = await this.o.store.listUsers();
    this.realLinks = new Set(users.filter((u) => u.staffId !== null && !u.id.startsWith(SIM_ACCOUNT_PREFIX)).map((u) => u.staffId!));
  }

  /** The bearer of a simulated account, made (or given a new token) the first time this lead needs it. */
  private token(user: Omit<UserRecord, 'tokenHash'>): Promise<string | null> {
    const term = this.term;
    if (!term.active) return Promise.resolve(null);
    let made = term.tokens.get(user.id);
    if (!made) {
      const token = randomBytes(32).toString('base64url');
      const tokenHash = hashToken(token);
      made = term.ready
        .then(() => this.o.store.upsertUsers([{ ...user, tokenHash }]))
        .then(
          () => {
            term.made.hashes.set(user.id, tokenHash);
            return token;
          },
          (e: unknown) => {
            // A real account took the staff member meanwhile (one account per staff member): theirs to play. Any
            // other failure (the database away) is tried again next time; the next refresh corrects the links.
            if (user.staffId) this.realLinks.add(user.staffId);
            this.o.log.warn('simulated account not made', { user: user.id, error: (e as Error).message.slice(0, 200) });
            if (term.tokens.get(user.id) === made) term.tokens.delete(user.id);
            return null;
          },
        );
      term.tokens.set(user.id, made);
    }
    return made;
  }

  private staffToken(staff: Staff): Promise<string | null> {
    return this.token({ id: simStaffUserId(staff.id), name: `${staff.name}（模拟）`, role: 'field', districtScope: null, departmentId: null, staffId: staff.id });
  }

  private liaisonToken(departmentId: string): Promise<string | null> {
    return this.token({ id: simLiaisonUserId(departmentId), name: SIM_LIAISON_NAME, role: 'liaison', districtScope: null, departmentId, staffId: null });
  }

  /** The platform's API key for this lead (the ones before it revoked on taking the lead); null when none could be made. */
  private key(source: SimSource): Promise<string | null> {
    const term = this.term;
    if (!term.active) return Promise.resolve(null);
    let made = term.keys.get(source);
    if (!made) {
      made = term.ready.then(async () => {
        const { key, record } = newApiKey({ name: SIM_SOURCE_NAMES[source], source, ratePerMinute: 60_000, createdBy: SIM_KEY_CREATOR, at: new Date().toISOString() });
        await this.o.store.createApiKey(record);
        term.made.keyIds.add(record.id);
        return key;
      });
      const entry = made.catch((e: unknown) => {
        // A failed creation is tried again next time.
        this.o.log.warn('simulated source key not made', { source, error: (e as Error).message.slice(0, 200) });
        if (term.keys.get(source) === entry) term.keys.delete(source);
        return null;
      });
      term.keys.set(source, entry);
      made = entry;
    }
    return made;
  }

  /** Forgets a bearer of this lead that was refused, unless it was replaced already. */
  private drop<K>(cache: Map<K, Promise<string | null>>, id: K, held: Promise<string | null>): void {
    if (cache.get(id) === held) cache.delete(id);
  }

  /**
   * One JSON POST with the bearer `held` gives; one answered 401/403 — replaced by another leader, revoked, its staff
   * member taken by a real account — is dropped and the request made once more with a new one (never a loop).
   */
  private async act(path: string, bearer: () => { held: Promise<string | null>; drop: () => void }, body: unknown): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const { held, drop } = bearer();
      const value = await held;
      const { outcome, status } = await this.post(path, value, body);
      if (outcome.ok || attempt > 0 || value === null || (status !== 401 && status !== 403)) {
        if (!outcome.ok) this.refused++;
        return outcome;
      }
      drop();
      this.remade++;
    }
  }

  private staffBearer(staff: Staff) {
    return () => {
      const held = this.staffToken(staff);
      const tokens = this.term.tokens;
      return { held, drop: () => this.drop(tokens, simStaffUserId(staff.id), held) };
    };
  }

  /** One JSON POST to this backend with a bearer; the answer's body, or why not, and the status. */
  private post(path: string, bearer: string | null, body: unknown): Promise<{ outcome: Outcome; status: number }> {
    if (!bearer) return Promise.resolve({ outcome: { ok: false, reason: 'no simulated account' }, status: 0 });
    this.requests++;
    const data = Buffer.from(JSON.stringify(body));
    return new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: this.o.port(), path, method: 'POST', agent: this.agent, timeout: REQUEST_TIMEOUT_MS, headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', 'Content-Length': data.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: said below
            }
            const status = res.statusCode ?? 500;
            const ok = status < 300 && typeof parsed === 'object' && parsed !== null;
            resolve({ outcome: ok ? { ok: true, result: parsed as Record<string, unknown> } : { ok: false, reason: `${status} ${text.slice(0, 300)}` }, status });
          });
          res.on('error', (e) => resolve({ outcome: { ok: false, reason: e.message }, status: 0 }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => resolve({ outcome: { ok: false, reason: e.message }, status: 0 }));
      req.end(data);
    });
  }

  fieldReport(staff: Staff, report: Parameters<SimPeople['fieldReport']>[1]): Promise<Outcome> {
    return this.act('/field/api/reports', this.staffBearer(staff), { clientId: randomUUID(), ...report });
  }

  fieldAction(...[staff, eventId, action, body]: Parameters<SimPeople['fieldAction']>): Promise<Outcome> {
    return this.act(`/field/api/tasks/${encodeURIComponent(eventId)}/${action}`, this.staffBearer(staff), { clientId: randomUUID(), ...body });
  }

  departmentAction(...[departmentId, eventId, action, body]: Parameters<SimPeople['departmentAction']>): Promise<Outcome> {
    const bearer = () => {
      const held = this.liaisonToken(departmentId);
      const tokens = this.term.tokens;
      return { held, drop: () => this.drop(tokens, simLiaisonUserId(departmentId), held) };
    };
    return this.act(`/department/api/events/${encodeURIComponent(eventId)}/${action}`, bearer, { clientId: randomUUID(), ...body });
  }

  sourceReport(source: SimSource, report: Parameters<SimPeople['sourceReport']>[1]): Promise<Outcome> {
    const bearer = () => {
      const held = this.key(source);
      const keys = this.term.keys;
      return { held, drop: () => this.drop(keys, source, held) };
    };
    return this.act(API_V1_REPORTS_PATH, bearer, { sourceId: `sim-${this.run}-${++this.reports}`, ...report });
  }

  /**
   * Ends this instance's simulated people: connections closed and, when it still leads (city-life.ts calls it
   * before letting the lead go), what this lead made released — its keys revoked, its accounts' staff let go and
   * their tokens replaced by ones nobody has. What another leader made meanwhile is left alone.
   */
  async close(leading: boolean): Promise<void> {
    const { made } = this.term;
    this.term = newTerm(false);
    this.agent.destroy();
    if (leading) await releaseSimulatedAccounts(this.o.store, made);
  }
}

/**
 * Lets the simulator's field accounts go of their staff members, replaces its accounts' tokens by ones nobody has
 * and revokes its keys: by the instance taking the lead (before it makes its own), and when the simulator stops
 * (`only`: what that lead made, still as it made it). The accounts then hold nothing a real account may need, and
 * no token or key another instance cached works. Keys revoked over a week ago are deleted (a new set is made at
 * every lead take and every start: kept, they would pile up), unless a webhook delivery still names one.
 */
export const SIM_KEY_KEEP_REVOKED_MS = 7 * 24 * 3600_000;
export async function releaseSimulatedAccounts(store: Pick<BackendStore, 'listUsers' | 'upsertUsers' | 'listApiKeys' | 'revokeApiKey' | 'removeRevokedApiKeys'>, only?: { hashes: ReadonlyMap<string, string>; keyIds: ReadonlySet<string> }): Promise<void> {
  const accounts = (await store.listUsers()).filter((u) => u.id.startsWith(SIM_ACCOUNT_PREFIX) && (!only || only.hashes.get(u.id) === u.tokenHash));
  if (accounts.length > 0) await store.upsertUsers(accounts.map((u) => ({ ...u, staffId: null, tokenHash: hashToken(randomBytes(32).toString('base64url')) })));
  const at = new Date().toISOString();
  for (const k of await store.listApiKeys()) if (k.createdBy === SIM_KEY_CREATOR && !k.revokedAt && (!only || only.keyIds.has(k.id))) await store.revokeApiKey(k.id, at, SIM_KEY_CREATOR);
  await store.removeRevokedApiKeys(SIM_KEY_CREATOR, new Date(Date.parse(at) - SIM_KEY_KEEP_REVOKED_MS).toISOString());
}

/**
 * An administrator gives `staffId` a real account: the simulator's account that holds the staff member lets go
 * (and its token is replaced), so the one-account-per-staff-member index never refuses the administrator because
 * of the simulator. The simulator then finds the staff member taken and stops playing them (LivePeople.token).
 * True when a simulated account held them.
 */
export async function letSimulatorGo(store: Pick<BackendStore, 'listUsers' | 'upsertUsers'>, staffId: string): Promise<boolean> {
  const held = (await store.listUsers()).filter((u) => u.id.startsWith(SIM_ACCOUNT_PREFIX) && u.staffId === staffId);
  if (held.length === 0) return false;
  await store.upsertUsers(held.map((u) => ({ ...u, staffId: null, tokenHash: hashToken(randomBytes(32).toString('base64url')) })));
  return true;
}
