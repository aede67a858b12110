/**
 * The page apps' offline queue (待发送; the phone's 网格通 and the department page): every report (with its photos, video and voice note as Blobs) and every task
 * action is written to IndexedDB first, with its clientId, and sent from there in order — now when online, else
 * when the network returns (the `online` event, and retries with a growing back-off). A report's files are uploaded
 * first (POST /attachments; each id kept as soon as it is known), then the report naming them. The backend applies a
 * clientId once, so a send cut off halfway and sent again is still one event. Nothing is lost on a reload or an app
 * restart: the queue lives in IndexedDB until the backend has answered. A refusal (400/403/404/409…) stays in the
 * queue, marked, with the backend's Chinese message, until the user drops it or tries again.
 */
import { shallowRef } from 'vue';
import { AttachmentRef } from '../../../protocol/attachments';
import { validate } from '../../../protocol/validate';
import { PageApiError, newClientId, refusal, say } from './app-api';

export type OutboxState = 'waiting' | 'sending' | 'retrying' | 'rejected';

export interface OutboxFile {
  name: string;
  type: string;
  blob: Blob;
  /** Set once uploaded (a retry does not upload it again). */
  attachmentId: string | null;
}

export interface OutboxItem {
  /** Queue order (IndexedDB key). */
  seq?: number;
  clientId: string;
  /** Whose item: only that account's session sends it. */
  user: string;
  /** What the queue shows: 「上报：…」「签收 E…」. */
  label: string;
  /** The route, e.g. /field/api/reports or /field/api/tasks/<id>/sign. */
  path: string;
  /** The body without clientId and attachments (added when sent). */
  body: Record<string, unknown>;
  files: OutboxFile[];
  /** The task it acts on, if any (the task list shows it as pending). */
  eventId: string | null;
  createdAt: string;
  state: OutboxState;
  attempts: number;
  error: string;
}

export interface SentItem {
  label: string;
  path: string;
  eventId: string | null;
  at: string;
  answer: Record<string, unknown>;
}

const STORE = 'outbox';
const MAX_BACKOFF_MS = 30_000;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB'));
  });
}

const opened = new Map<string, Promise<IDBDatabase>>();
function db(name: string): Promise<IDBDatabase> {
  let database = opened.get(name);
  if (!database) {
    database = new Promise((resolve, reject) => {
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true });
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('IndexedDB'));
    });
    opened.set(name, database);
  }
  return database;
}

export interface OutboxOptions {
  /** The IndexedDB database of the app's queue (zongzhi-field, zongzhi-department). */
  db: string;
  user: string;
  /** The session's bearer token (null: signed out). */
  token: () => string | null;
  /** After each item the backend accepted (the page refreshes its tasks). */
  onSent?: (item: OutboxItem, answer: Record<string, unknown>) => void;
  /** The session ended (401): the page asks for the sign-in again; the queue keeps its items. */
  onAuthLost?: (error: PageApiError) => void;
  /**
   * The backend refused an item for good (400/403/404/409…): the item stays, marked, unless this drops it (the
   * department page shows the refusal and lets the user act anew; the phone keeps it for 重试 or 移除).
   */
  onRejected?: (item: OutboxItem, error: PageApiError) => 'keep' | 'drop';
}

export class Outbox {
  /** This user's items, in queue order (what the 待发送 list shows); shallow: the items stay plain objects for IndexedDB. */
  readonly items = shallowRef<OutboxItem[]>([]);
  /** The last few sent (shown under the queue for a while). */
  readonly sent = shallowRef<SentItem[]>([]);
  private running = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private backoff = 1000;
  private stopped = false;
  private readonly kick = (): void => {
    this.backoff = 1000;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.flush();
  };

  constructor(private readonly o: OutboxOptions) {}

  private async store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await db(this.o.db)).transaction(STORE, mode).objectStore(STORE);
  }

  async start(): Promise<void> {
    window.addEventListener('online', this.kick);
    await this.load();
    // Items left 'sending' by a reload mid-send are sent again (their clientId makes that safe).
    for (const item of this.items.value) if (item.state === 'sending') await this.save({ ...item, state: 'waiting' });
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.kick);
    if (this.timer) clearTimeout(this.timer);
  }

  /** Queues an item and tries to send it now. */
  async add(item: Omit<OutboxItem, 'seq' | 'user' | 'createdAt' | 'state' | 'attempts' | 'error'>): Promise<void> {
    const full: OutboxItem = { ...item, user: this.o.user, createdAt: new Date().toISOString(), state: 'waiting', attempts: 0, error: navigator.onLine ? '' : say('无网络，联网后自动发送', 'No network: sent when it returns') };
    await request((await this.store('readwrite')).add(full));
    await this.load();
    this.kick();
  }

  /** Drops an item (a refused one the user gives up on). */
  async remove(seq: number): Promise<void> {
    await request((await this.store('readwrite')).delete(seq));
    await this.load();
  }

  /**
   * Sends a refused item again (after the user fixed what was wrong elsewhere). As a new action: the backend keeps
   * its answer to the old clientId (a refusal), so the same id would only hear that refusal again.
   */
  async retry(seq: number): Promise<void> {
    const item = this.items.value.find((i) => i.seq === seq);
    if (item) await this.save({ ...item, clientId: newClientId(), state: 'waiting', error: '' });
    this.kick();
  }

  private async load(): Promise<void> {
    const all = (await request((await this.store('readonly')).getAll())) as OutboxItem[];
    this.items.value = all.filter((i) => i.user === this.o.user).sort((a, b) => a.seq! - b.seq!);
  }

  private async save(item: OutboxItem): Promise<void> {
    await request((await this.store('readwrite')).put(item));
    await this.load();
  }

  private async flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      for (const listed of [...this.items.value]) {
        if (this.stopped) return;
        // Read again: the user may have removed it (or another tab sent it) since the list was taken.
        const item = (await request((await this.store('readonly')).get(listed.seq!))) as OutboxItem | undefined;
        if (!item || item.state === 'rejected') continue;
        if ((await this.send(item)) === 'later') {
          // Kept in order: nothing after it goes before it. The `online` event sends at once; else back-off.
          this.timer = setTimeout(() => void this.flush(), this.backoff);
          this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
          return;
        }
      }
      this.backoff = 1000;
    } finally {
      this.running = false;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.flush();
      }
    }
  }

  /** Sends one item: 'done' (accepted or refused for good), or 'later' (no network, server busy, signed out). */
  private async send(item: OutboxItem): Promise<'done' | 'later'> {
    const token = this.o.token();
    if (!navigator.onLine || !token) {
      await this.save({ ...item, state: 'waiting', error: token ? say('无网络，联网后自动发送', 'No network: sent when it returns') : say('未登录，登录后自动发送', 'Signed out: sent after the next sign-in') });
      return 'later';
    }
    let current: OutboxItem = { ...item, state: 'sending', attempts: item.attempts + 1, error: '' };
    await this.save(current);
    const auth = { Authorization: `Bearer ${token}` };
    try {
      const files: OutboxFile[] = [];
      for (const file of current.files) {
        if (file.attachmentId) {
          files.push(file);
          continue;
        }
        const form = new FormData();
        form.append('file', file.blob, file.name);
        const response = await fetch('/attachments', { method: 'POST', headers: auth, body: form });
        if (!response.ok) throw await refusal(response, say(`上传 ${file.name} `, `Upload of ${file.name}`));
        const checked = validate(AttachmentRef, await response.json());
        if (!checked.ok) throw new PageApiError(say(`上传 ${file.name} 后台返回的数据无法识别`, `Upload of ${file.name}: the answer cannot be read`), 0, 'invalid');
        files.push({ ...file, attachmentId: checked.value.id });
        current = { ...current, files: [...files, ...current.files.slice(files.length)] };
        await this.save(current);
      }
      const attachments = files.map((f) => f.attachmentId!);
      const body = { ...current.body, clientId: current.clientId, ...(attachments.length > 0 ? { attachments } : {}) };
      const response = await fetch(current.path, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw await refusal(response, current.label);
      const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      await request((await this.store('readwrite')).delete(current.seq!));
      await this.load();
      this.sent.value = [{ label: current.label, path: current.path, eventId: current.eventId, at: new Date().toISOString(), answer }, ...this.sent.value].slice(0, 5);
      this.o.onSent?.(current, answer);
      return 'done';
    } catch (e) {
      if (!(e instanceof PageApiError)) {
        // fetch itself failed: the network went away mid-send.
        await this.save({ ...current, state: 'retrying', error: say('网络中断，稍后自动重发', 'The network went away: sent again shortly') });
        return 'later';
      }
      if (e.status === 401) {
        await this.save({ ...current, state: 'waiting', error: say('登录已失效，重新登录后自动发送', 'The sign-in ended: sent after the next sign-in') });
        this.o.onAuthLost?.(e);
        return 'later';
      }
      if (e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500) {
        await this.save({ ...current, state: 'retrying', error: say(`${e.message}，稍后自动重发`, `${e.message}: sent again shortly`) });
        return 'later';
      }
      if (this.o.onRejected?.(current, e) === 'drop') {
        await request((await this.store('readwrite')).delete(current.seq!));
        await this.load();
      } else await this.save({ ...current, state: 'rejected', error: e.message });
      return 'done';
    }
  }
}
