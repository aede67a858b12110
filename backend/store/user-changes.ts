/**
 * A user's rights changed in the store (role or area scope, disabled or enabled again), told to every instance at
 * once so that it closes the user's connections there: on PostgreSQL a NOTIFY on `zongzhi_users` sent in the
 * writing transaction (delivered at its commit, from any writer: an instance's user administration or the command
 * line), LISTENed by each instance (pg-cluster.ts); on SQLite (one instance) the same change handed to the
 * listeners in this process after the write.
 */
import { z } from 'zod';
import type { UserRecord } from './types';

/** The channel user changes are announced on (payload: a UserChange as JSON, well under PostgreSQL's 8000 bytes). */
export const USERS_CHANNEL = 'zongzhi_users';

export const UserChange = z.object({ id: z.string().min(1).max(64), what: z.enum(['rights', 'disabled', 'enabled']) }).strict();
export type UserChange = z.infer<typeof UserChange>;

/** A notification's payload as a change, or null when it is not one (never trusted: it crossed the network). */
export function userChangeOf(payload: string | undefined): UserChange | null {
  if (payload === undefined || payload.length > 1000) return null;
  try {
    const parsed = UserChange.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Whether writing `after` over `before` changes what the user may see or do (their role or area scope). */
export const rightsChanged = (before: Pick<UserRecord, 'role' | 'districtScope'> | undefined, after: Pick<UserRecord, 'role' | 'districtScope'>): boolean =>
  before !== undefined && (before.role !== after.role || JSON.stringify(before.districtScope) !== JSON.stringify(after.districtScope));

/** The listeners of one process (the SQLite store's way: the store's writer is this process). */
export class LocalUserChanges {
  private readonly listeners = new Set<(change: UserChange) => void>();

  watch(onChange: (change: UserChange) => void): { close(): Promise<void> } {
    this.listeners.add(onChange);
    return { close: async () => void this.listeners.delete(onChange) };
  }

  /** Told after the write, never inside it (a listener's failure cannot undo it). */
  tell(changes: readonly UserChange[]): void {
    if (changes.length === 0 || this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const change of changes) for (const listener of this.listeners) listener(change);
    });
  }
}
