/**
 * The simulated people live: each acts over HTTP to this backend (127.0.0.1) on the routes real people and systems
 * use — a grid staff member with a field account of their own on /field/api/*, a department's liaison account on
 * /department/api/*, each platform with an API key of its own on /api/v1/reports. HTTP rather than calling the
 * handlers in-process: every check those routes make (the bearer and its app, the body's schema, the staff link,
 * the key's rate, the idempotency key) runs for the simulator exactly as for a phone, with nothing to keep in step.
 *
 * The accounts are made when first needed, only while the simulator runs (the demo, --simulate): ids start with
 * `sim-` (people.ts), no password (nobody signs in as one), a random token per start kept in this object's memory
 * only (never logged, never stored but as its hash). The keys are made afresh each start (the previous start's
 * simulator keys revoked). A staff member a real account holds (one account per staff member) is not played:
 * their person acts for them. When the simulator stops, its field accounts let go of their staff members, so an
 * administrator may then give the staff member a real account.
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
  store: Pick<BackendStore, 'listUsers' | 'upsertUsers' | 'listApiKeys' | 'createApiKey' | 'revokeApiKey'>;
  state: CityState;
  /** This backend's HTTP port (known once it listens). */
  port: () => number;
  log: Logger;
}

export class LivePeople implements SimPeople {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly tokens = new Map<string, Promise<string | null>>();
  private readonly keys = new Map<SimSource, Promise<string>>();
  private keysRevoked: Promise<void> | null = null;
  /** Staff held by a real account (not played), and when that was last read. */
  private realLinks = new Set<string>();
  private linksReadAt = 0;
  private reports = 0;
  private readonly run = Date.now().toString(36);
  requests = 0;
  refused = 0;

  constructor(private readonly o: LivePeopleOptions) {}

  plays(staffId: string): boolean {
    return !this.realLinks.has(staffId);
  }

  /** Reads which staff members real accounts hold (at most every LINKS_REFRESH_MS). */
  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.linksReadAt < LINKS_REFRESH_MS) return;
    this.linksReadAt = Date.now();
    const users = await this.o.store.listUsers();
    this.realLinks = new Set(users.filter((u) => u.staffId !== null && !u.id.startsWith(SIM_ACCOUNT_PREFIX)).map((u) => u.staffId!));
  }

  /** The bearer of a simulated account, made (or given a new token) the first time this start needs it. */
  private token(user: Omit<UserRecord, 'tokenHash'>): Promise<string | null> {
    let made = this.tokens.get(user.id);
    if (!made) {
      const token = randomBytes(32).toString('base64url');
      made = this.o.store.upsertUsers([{ ...user, tokenHash: hashToken(token) }]).then(
        () => token,
        (e: unknown) => {
          // A real account took the staff member meanwhile (one account per staff member): theirs to play.
          if (user.staffId) this.realLinks.add(user.staffId);
          this.o.log.warn('simulated account not made', { user: user.id, error: (e as Error).message.slice(0, 200) });
          return null;
        },
      );
      this.tokens.set(user.id, made);
    }
    return made;
  }

  private staffToken(staff: Staff): Promise<string | null> {
    return this.token({ id: simStaffUserId(staff.id), name: `${staff.name}（模拟）`, role: 'field', districtScope: null, departmentId: null, staffId: staff.id });
  }

  private liaisonToken(departmentId: string): Promise<string | null> {
    return this.token({ id: simLiaisonUserId(departmentId), name: SIM_LIAISON_NAME, role: 'liaison', districtScope: null, departmentId, staffId: null });
  }

  /** The platform's API key for this start (the previous starts' simulator keys revoked first). */
  private key(source: SimSource): Promise<string> {
    let made = this.keys.get(source);
    if (!made) {
      this.keysRevoked ??= (async () => {
        const at = new Date().toISOString();
        for (const k of await this.o.store.listApiKeys()) if (k.createdBy === SIM_KEY_CREATOR && !k.revokedAt) await this.o.store.revokeApiKey(k.id, at, SIM_KEY_CREATOR);
      })();
      made = this.keysRevoked.then(async () => {
        const { key, record } = newApiKey({ name: SIM_SOURCE_NAMES[source], source, ratePerMinute: 60_000, createdBy: SIM_KEY_CREATOR, at: new Date().toISOString() });
        await this.o.store.createApiKey(record);
        return key;
      });
      // A failed creation is tried again next time.
      made.catch(() => this.keys.delete(source));
      this.keys.set(source, made);
    }
    return made;
  }

  /** One JSON POST to this backend with a bearer; the answer's body, or why not. */
  private post(path: string, bearer: string | null, body: unknown): Promise<Outcome> {
    if (!bearer) return Promise.resolve({ ok: false, reason: 'no simulated account' });
    this.requests++;
    const data = Buffer.from(JSON.stringify(body));
    return new Promise<Outcome>((resolve) => {
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
            const ok = (res.statusCode ?? 500) < 300 && typeof parsed === 'object' && parsed !== null;
            if (!ok) this.refused++;
            resolve(ok ? { ok: true, result: parsed as Record<string, unknown> } : { ok: false, reason: `${res.statusCode} ${text.slice(0, 300)}` });
          });
          res.on('error', (e) => resolve({ ok: false, reason: e.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => {
        this.refused++;
        resolve({ ok: false, reason: e.message });
      });
      req.end(data);
    });
  }

  async fieldReport(staff: Staff, report: Parameters<SimPeople['fieldReport']>[1]): Promise<Outcome> {
    return this.post('/field/api/reports', await this.staffToken(staff), { clientId: randomUUID(), ...report });
  }

  async fieldAction(...[staff, eventId, action, body]: Parameters<SimPeople['fieldAction']>): Promise<Outcome> {
    return this.post(`/field/api/tasks/${encodeURIComponent(eventId)}/${action}`, await this.staffToken(staff), { clientId: randomUUID(), ...body });
  }

  async departmentAction(...[departmentId, eventId, action, body]: Parameters<SimPeople['departmentAction']>): Promise<Outcome> {
    return this.post(`/department/api/events/${encodeURIComponent(eventId)}/${action}`, await this.liaisonToken(departmentId), { clientId: randomUUID(), ...body });
  }

  async sourceReport(source: SimSource, report: Parameters<SimPeople['sourceReport']>[1]): Promise<Outcome> {
    let key: string;
    try {
      key = await this.key(source);
    } catch (e) {
      return { ok: false, reason: `no API key: ${(e as Error).message}` };
    }
    return this.post(API_V1_REPORTS_PATH, key, { sourceId: `sim-${this.run}-${++this.reports}`, ...report });
  }

  /**
   * Ends this start's simulated people: connections closed, keys revoked, the field accounts' staff let go (and
   * their tokens replaced by ones nobody has).
   */
  async close(): Promise<void> {
    this.agent.destroy();
    await releaseSimulatedAccounts(this.o.store);
  }
}

/**
 * Lets the simulator's field accounts go of their staff members and revokes its keys: on a start without the
 * simulator and when it stops, so that the accounts hold nothing a real account may need and no key is live.
 */
export async function releaseSimulatedAccounts(store: Pick<BackendStore, 'listUsers' | 'upsertUsers' | 'listApiKeys' | 'revokeApiKey'>): Promise<void> {
  const held = (await store.listUsers()).filter((u) => u.id.startsWith(SIM_ACCOUNT_PREFIX) && u.staffId !== null);
  if (held.length > 0) await store.upsertUsers(held.map((u) => ({ ...u, staffId: null, tokenHash: hashToken(randomBytes(32).toString('base64url')) })));
  const at = new Date().toISOString();
  for (const k of await store.listApiKeys()) if (k.createdBy === SIM_KEY_CREATOR && !k.revokedAt) await store.revokeApiKey(k.id, at, SIM_KEY_CREATOR);
}
