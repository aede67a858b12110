import { describe, expect, it } from 'vitest';
import { CLOCK_BITS, CLOCK_STRIP, HubError, WallTour, backendMediaOrigins, videoPlatformOrigins, clockLatencyMs, decodeClockStrip, resolveStreamUrl, validate, type Camera, type HubApi, type RowsChange, type WallMemory, type WallState } from '../../protocol';
import { layoutFor, tourPage } from '../../renderer/src/stores/video';
import { playableStreams } from '../../renderer/src/video/streams';
import { buildContentSecurityPolicy } from '../../web-serving/csp';

const camera = (streams: Camera['streams']): Camera => ({ id: 'cam0001', name: 'x', kind: 'tianwang', position: [117, 36], heading: 0, fov: 60, gridId: 'g', districtId: 'd', online: true, streams });

describe('video wall rules', () => {
  it('tours page through a group and wrap around; layouts grow to fit', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    expect(tourPage(ids, 0, 4)).toEqual(['a', 'b', 'c', 'd']);
    expect(tourPage(ids, 1, 4)).toEqual(['e', 'a', 'b', 'c']);
    expect(tourPage(ids, 0, 9)).toEqual(ids); // a group smaller than the layout: each camera once
    expect(tourPage([], 3, 4)).toEqual([]);
    expect([1, 2, 4, 5, 9, 10, 16, 40].map(layoutFor)).toEqual(['1', '4', '4', '9', '9', '16', '16', '16']);
  });

  it('plays the best stream this machine can decode, none when it can decode none', () => {
    const h264only = (codec: string): boolean => codec === 'h264';
    const cam = camera([
      { protocol: 'hls', url: 'http://v/1.m3u8', codec: 'h264' },
      { protocol: 'mpegts', url: '/video/cam0001', codec: 'h264' },
      { protocol: 'flv', url: 'ws://v/1.flv', codec: 'h265' },
      { protocol: 'webrtc', url: 'http://v/whep', codec: 'h264' },
    ]);
    expect(playableStreams(cam, h264only).map((s) => s.protocol)).toEqual(['webrtc', 'mpegts', 'hls']);
    // A machine whose WebRTC stack lacks H.264 (or has no WebRTC) plays the MSE streams.
    expect(playableStreams(cam, (codec, protocol) => codec === 'h264' && protocol !== 'webrtc').map((s) => s.protocol)).toEqual(['mpegts', 'hls']);
    expect(playableStreams(camera([{ protocol: 'mpegts', url: '/video/x', codec: 'h265' }]), h264only)).toEqual([]);
  });

  it('resolves relative stream URLs against the backend and allows exactly its media origins', () => {
    expect(resolveStreamUrl('/video/cam0001', 'ws://127.0.0.1:38899/ws')).toBe('ws://127.0.0.1:38899/video/cam0001');
    expect(resolveStreamUrl('https://vp.example/live/1.m3u8', 'ws://127.0.0.1:1/ws')).toBe('https://vp.example/live/1.m3u8');
    expect(resolveStreamUrl('/video/cam0001/index.m3u8', 'ws://127.0.0.1:38899/ws', 'http')).toBe('http://127.0.0.1:38899/video/cam0001/index.m3u8');
    expect(resolveStreamUrl('/video/cam0001/index.m3u8', 'wss://zz.example/ws', 'http')).toBe('https://zz.example/video/cam0001/index.m3u8');
    expect(resolveStreamUrl('ws://vp.example/live/1.flv', 'wss://zz.example/ws', 'http')).toBe('ws://vp.example/live/1.flv');
    expect(resolveStreamUrl('/video/x', null)).toBeNull();
    // The viewer's ticket goes on the backend's own stream routes only, never to a platform's URL.
    expect(resolveStreamUrl('/video/cam0001/whep', 'ws://127.0.0.1:38899/ws', 'http', 'AbC_-1.xYz')).toBe('http://127.0.0.1:38899/video/cam0001/whep?ticket=AbC_-1.xYz');
    expect(resolveStreamUrl('/video/cam0001', 'wss://zz.example/ws', 'ws', 'T.k')).toBe('wss://zz.example/video/cam0001?ticket=T.k');
    expect(resolveStreamUrl('https://vp.example/live/1.m3u8?token=p', 'ws://127.0.0.1:1/ws', 'http', 'T.k')).toBe('https://vp.example/live/1.m3u8?token=p');
    expect(resolveStreamUrl('/other/x', 'ws://127.0.0.1:1/ws', 'ws', 'T.k')).toBe('ws://127.0.0.1:1/other/x');
    expect(backendMediaOrigins('wss://zz.example:8443/ws')).toEqual(['wss://zz.example:8443', 'https://zz.example:8443']);
    expect(backendMediaOrigins('ws://127.0.0.1:38899/ws')).toEqual(['ws://127.0.0.1:38899', 'http://127.0.0.1:38899']);
    expect(backendMediaOrigins('not a url')).toEqual([]);
    expect(backendMediaOrigins('file:///etc/passwd')).toEqual([]);
    expect(buildContentSecurityPolicy({ mediaOrigins: backendMediaOrigins('ws://127.0.0.1:38899/ws') })).toContain("connect-src 'self' ws://127.0.0.1:38899 http://127.0.0.1:38899");
    expect(() => buildContentSecurityPolicy({ mediaOrigins: ["ws://a; script-src 'unsafe-eval'"] })).toThrow(/not a valid media origin/);
    // The video platforms the cameras name (absolute URLs) join the CSP; relative URLs, junk and odd hosts do not.
    const platforms = videoPlatformOrigins([
      camera([{ protocol: 'webrtc', url: 'https://zlm.example:8443/index/api/whep?app=live&stream=1', codec: 'h264' }, { protocol: 'flv', url: 'ws://zlm.example:80/live/1.live.flv', codec: 'h264' }]),
      camera([{ protocol: 'mpegts', url: '/video/cam0001', codec: 'h264' }, { protocol: 'hls', url: 'http://[::1]:8080/a.m3u8', codec: 'h264' }, { protocol: 'hls', url: "https://x.example/a'; script-src *", codec: 'h264' }]),
      camera([{ protocol: 'hls', url: 'https://zlm.example:8443/live/2.m3u8', codec: 'h264' }, { protocol: 'hls', url: 'javascript:alert(1)', codec: 'h264' }]),
    ]);
    expect(platforms).toEqual(['https://zlm.example:8443', 'ws://zlm.example', 'https://x.example']);
    expect(() => buildContentSecurityPolicy({ mediaOrigins: platforms })).not.toThrow();
    expect(videoPlatformOrigins(Array.from({ length: 100 }, (_, i) => camera([{ protocol: 'hls', url: `https://p${i}.example/a.m3u8`, codec: 'h264' }])))).toHaveLength(32);
  });

  it('reads the burnt-in clock strip and the latency from it, refusing a picture without one', () => {
    const value = 0b1011001110001111000101;
    const luma = (x: number, y: number): number => {
      const k = Math.round((x - CLOCK_STRIP.x0 - CLOCK_STRIP.box / 2) / CLOCK_STRIP.pitch);
      return y > CLOCK_STRIP.y && (value >> k) & 1 ? 235 : 16;
    };
    expect(decodeClockStrip(luma)).toBe(value);
    expect(decodeClockStrip(() => 128)).toBeNull(); // grey: not a strip
    const now = 1_790_000_000_123;
    expect(clockLatencyMs((now - 250) % 2 ** CLOCK_BITS, now)).toBe(250);
    // Across the wrap of the 22-bit clock.
    expect(clockLatencyMs(2 ** CLOCK_BITS - 100, 2 ** CLOCK_BITS * 7 + 50)).toBe(150);
  });
});

describe('video wall store', () => {
  it('video alarms take a tile one per 10 s; a burst waits in a counted queue; a camera already shown is not queued', async () => {
    const { createPinia, setActivePinia } = await import('pinia');
    const { vi } = await import('vitest');
    const { ALARM_MIN_INTERVAL_MS, useVideoStore } = await import('../../renderer/src/stores/video');
    vi.useFakeTimers();
    try {
      setActivePinia(createPinia());
      const wall = useVideoStore();
      wall.setLayout('1+5');
      wall.open(['a', 'b']);
      expect(wall.layout).toBe('1+5');
      wall.alarm('x');
      expect(wall.tiles[wall.alarmSlot]).toBe('x'); // the big tile
      wall.alarm('y');
      wall.alarm('z');
      wall.alarm('y'); // already waiting
      wall.alarm('b'); // already on the wall
      expect(wall.alarmQueue).toEqual(['y', 'z']);
      vi.advanceTimersByTime(ALARM_MIN_INTERVAL_MS - 1);
      wall.alarm('w');
      expect(wall.tiles[0]).toBe('x');
      vi.advanceTimersByTime(1);
      wall.alarm('w'); // drains on the next alarm or tick
      expect(wall.tiles[0]).toBe('y');
      expect(wall.alarmQueue).toEqual(['z', 'w']);
      wall.clearAlarmQueue();
      expect(wall.alarmQueue).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('video wall restore and tour pages', () => {
  const cam = (id: string): Camera => ({ ...camera([]), id, position: [117 + Number(id.slice(1)) * 0.001, 36] });

  async function wallWithHub(getWall: () => Promise<WallMemory>) {
    const { createPinia, setActivePinia } = await import('pinia');
    const { useHubStore } = await import('../../renderer/src/stores/hub');
    const { useVideoStore } = await import('../../renderer/src/stores/video');
    setActivePinia(createPinia());
    const saves: WallState[] = [];
    let reads = 0;
    const cameras = new Map(['c1', 'c2', 'c3'].map((id) => [id, cam(id)]));
    useHubStore().api = {
      subscribeRows: async (q: { collection?: string }, listener: (rows: Map<string, unknown>, change: RowsChange<unknown>) => void) => {
        const rows = q.collection === 'cameras' ? cameras : new Map();
        listener(rows, { upserts: [...rows.values()], removes: [], reset: true });
        return async () => {};
      },
      getWall: async () => {
        reads++;
        return getWall();
      },
      saveWall: async (_wall: string, state: WallState) => {
        saves.push(state);
        return {};
      },
    } as unknown as HubApi;
    return { wall: useVideoStore(), saves, reads: () => reads };
  }

  it('a failed read of the saved wall saves nothing and starts no tour; it asks again and then uses the saved state', async () => {
    const { vi } = await import('vitest');
    const { RESTORE_RETRY_MS } = await import('../../renderer/src/stores/video');
    vi.useFakeTimers();
    try {
      const saved: WallState = { version: 1, layout: '9', tiles: ['c2', null, 'c3'], tour: null };
      let fail = true;
      const { wall, saves, reads } = await wallWithHub(async () => {
        if (fail) {
          fail = false;
          throw new HubError('unavailable', 'the hub is reconnecting');
        }
        return { state: saved, problem: null, presets: [] };
      });
      await wall.start();
      await vi.advanceTimersByTimeAsync(RESTORE_RETRY_MS[0] - 1);
      expect(reads()).toBe(1);
      expect(wall.tour).toBeNull(); // no first-start tour over a wall that has a saved layout
      expect(wall.tiles.every((t) => t === null)).toBe(true);
      expect(saves).toEqual([]); // and nothing written over it
      await vi.advanceTimersByTimeAsync(1);
      expect(reads()).toBe(2);
      expect(wall.layout).toBe('9');
      expect(wall.tiles.slice(0, 3)).toEqual(['c2', null, 'c3']);
      expect(wall.tour).toBeNull();
      for (const s of saves) expect(s).toMatchObject({ layout: '9', tiles: expect.arrayContaining(['c2', 'c3']) });
      await wall.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a wall that stops while its read keeps failing asks no more', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers();
    try {
      const { wall, saves, reads } = await wallWithHub(() => Promise.reject(new HubError('unavailable', 'busy')));
      await wall.start();
      await vi.advanceTimersByTimeAsync(3_500); // 1 s, then 2 s
      expect(reads()).toBe(3);
      await wall.stop();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(reads()).toBe(3);
      expect(saves).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a tour counts its pages modulo the pages it has, showing the same turn as counting on', async () => {
    const { nextTourPage, tourPageCount } = await import('../../renderer/src/stores/video');
    expect(tourPageCount(5, 4)).toBe(5);
    expect(tourPageCount(8, 4)).toBe(2);
    expect(tourPageCount(0, 4)).toBe(1);
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    let page = 0;
    for (let n = 1; n < 500; n++) {
      page = nextTourPage(page, ids.length, 4);
      expect(page).toBeLessThan(tourPageCount(ids.length, 4));
      expect(tourPage(ids, page, 4)).toEqual(tourPage(ids, n, 4));
    }
    // On the wall: months of a 10 s tour leave a page a saved state accepts.
    const { vi } = await import('vitest');
    vi.useFakeTimers();
    try {
      const { wall } = await wallWithHub(async () => ({ state: null, problem: null, presets: [] }));
      wall.setLayout('4');
      wall.startTour('online', ['c1', 'c2', 'c3'], 10, 999_999);
      expect(wall.tour!.page).toBe(999_999 % 3);
      await vi.advanceTimersByTimeAsync(10_000 * 1_000);
      expect(wall.tour!.page).toBeLessThan(3);
      expect(validate(WallTour, { group: 'online', intervalSec: 10, page: wall.tour!.page }).ok).toBe(true);
      wall.stopTour();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('video wall memory', () => {
  it("names the window's wall from its address: the hash's query, else the page's, else the default wall", async () => {
    const { wallNameOf } = await import('../../renderer/src/video/wall-memory');
    expect(wallNameOf({ search: '', hash: '#/video?wall=left' })).toBe('left');
    expect(wallNameOf({ search: '?role=video&wall=display-2779098405', hash: '#/video' })).toBe('display-2779098405');
    expect(wallNameOf({ search: '?wall=display-1', hash: '#/video?wall=right' })).toBe('right');
    expect(wallNameOf({ search: '', hash: '#/video' })).toBe('default');
    expect(wallNameOf({ search: '', hash: '#/video?wall=../etc' })).toBe('default');
    expect(wallNameOf({ search: '?wall=', hash: '' })).toBe('default');
  });

  it("tours the online cameras nearest the console's area: the map's home, else the scope's cameras, else the city's", async () => {
    const { areaCentre, tourGroupCameras, NEARBY_TOUR_SIZE } = await import('../../renderer/src/video/wall-memory');
    const cam = (id: string, lon: number, districtId: string, online = true) => ({ id, name: id, kind: 'tianwang' as const, position: [lon, 30] as [number, number], heading: 0, fov: 60, gridId: 'g', districtId, online, streams: [] });
    const cameras = [cam('a', 120.0, 'd1'), cam('b', 120.01, 'd1', false), cam('c', 120.02, 'd1'), cam('d', 121.0, 'd2'), cam('e', 121.01, 'd2')];
    expect(areaCentre(cameras, null, [100, 20])).toEqual([100, 20]);
    expect(areaCentre(cameras, ['d2'], null)![0]).toBeCloseTo(121.005);
    expect(areaCentre(cameras, ['elsewhere'], null)![0]).toBeCloseTo(120.406);
    expect(areaCentre([], null, null)).toBeNull();
    expect(tourGroupCameras('nearby', cameras, [121.02, 30])).toEqual(['e', 'd', 'c', 'a']); // nearest first, online only
    expect(tourGroupCameras('online', cameras, null)).toEqual(['a', 'c', 'd', 'e']);
    expect(tourGroupCameras('d1', cameras, null)).toEqual(['a', 'c']);
    expect(tourGroupCameras('nearby', cameras, null)).toEqual([]);
    const many = Array.from({ length: 40 }, (_, i) => cam(`m${String(i).padStart(2, '0')}`, 120 + i * 0.001, 'd1'));
    expect(tourGroupCameras('nearby', many, [120, 30])).toHaveLength(NEARBY_TOUR_SIZE);
  });
});

describe('CSP recovery', () => {
  it('reloads once for a connection refused to the backend it trusts now, never for strangers', async () => {
    const { cspReloadOrigin } = await import('../../renderer/src/csp-recovery');
    const tried = new Set<string>();
    const backend = 'ws://127.0.0.1:40123/ws';
    expect(cspReloadOrigin('ws://127.0.0.1:40123/video/cam0001', [backend], (o) => tried.has(o))).toBe('ws://127.0.0.1:40123');
    expect(cspReloadOrigin('http://127.0.0.1:40123/video/cam0001/index.m3u8', [backend], (o) => tried.has(o))).toBe('http://127.0.0.1:40123');
    tried.add('ws://127.0.0.1:40123');
    expect(cspReloadOrigin('ws://127.0.0.1:40123/video/cam0002', [backend], (o) => tried.has(o))).toBeNull(); // once only
    expect(cspReloadOrigin('wss://evil.example/x', [backend], () => false)).toBeNull();
    expect(cspReloadOrigin('ws://127.0.0.1:40124/video/x', [backend], () => false)).toBeNull(); // another port
    expect(cspReloadOrigin('inline', [backend], () => false)).toBeNull();
    expect(cspReloadOrigin('ws://127.0.0.1:40123/x', [null], () => false)).toBeNull();
  });
});
