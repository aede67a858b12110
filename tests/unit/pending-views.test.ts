/** The hub's views on their way to the backend's audit (hub/audit.ts): sent at once, held while offline (bounded), then sent in order. */
import { describe, expect, it, vi } from 'vitest';
import { MAX_PENDING_VIEWS, PendingViews, VIEW_BURST, VIEWS_PER_SECOND } from '../../hub/audit';
import type { ViewPayload } from '../../protocol';
import { silentLogger } from '../../node-util/logger';

const view = (id: string): ViewPayload => ({ what: 'event', id, personal: false });

describe('PendingViews', () => {
  it('sends at once when the link can, holds while it cannot, and sends what it held in order once it is back', () => {
    const sent: string[] = [];
    let online = true;
    const views = new PendingViews((v) => online && (sent.push(v.id), true), silentLogger);
    views.add(view('E1'));
    online = false;
    views.add(view('E2'));
    views.add(view('E3'));
    expect(sent).toEqual(['E1']);
    expect(views.size).toBe(2);
    online = true;
    // Held views go first: a new one waits behind them.
    views.add(view('E4'));
    expect(sent).toEqual(['E1']);
    views.flush();
    expect(sent).toEqual(['E1', 'E2', 'E3', 'E4']);
    expect(views.size).toBe(0);
  });

  it('keeps at most MAX_PENDING_VIEWS while offline, dropping the oldest with a log line', () => {
    const warnings: string[] = [];
    const sent: string[] = [];
    let online = false;
    const views = new PendingViews((v) => online && (sent.push(v.id), true), { ...silentLogger, warn: (message: string) => void warnings.push(message) });
    for (let i = 0; i < MAX_PENDING_VIEWS + 3; i++) views.add(view(`E${i}`));
    expect(views.size).toBe(MAX_PENDING_VIEWS);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/dropped/);
    online = true;
    // Paced under the backend's rate (a burst, then a few a second): none refused there, none lost.
    vi.useFakeTimers();
    try {
      views.flush();
      expect(sent).toHaveLength(VIEW_BURST);
      vi.advanceTimersByTime(1000);
      expect(sent).toHaveLength(VIEW_BURST + VIEWS_PER_SECOND);
      vi.advanceTimersByTime(1000 * Math.ceil((MAX_PENDING_VIEWS - VIEW_BURST) / VIEWS_PER_SECOND));
    } finally {
      vi.useRealTimers();
    }
    expect(sent).toHaveLength(MAX_PENDING_VIEWS);
    expect(sent[0]).toBe('E3');
    expect(sent.at(-1)).toBe(`E${MAX_PENDING_VIEWS + 2}`);
  });

  it('never sends a view held for one user after another signed in at the seat', () => {
    const sent: string[] = [];
    const warnings: string[] = [];
    let online = false;
    let user: string | null = 'duty';
    const views = new PendingViews((v) => online && (sent.push(v.id), true), { ...silentLogger, warn: (message: string) => void warnings.push(message) }, () => user);
    views.add(view('E1'));
    user = 'duty-2';
    views.add(view('E2'));
    online = true;
    views.flush();
    expect(sent).toEqual(['E2']);
    expect(warnings[0]).toMatch(/another user/);
  });
});
