/**
 * What a video wall (视频墙) remembers, kept by the hub in its SQLite cache so it survives a restart, a browser
 * profile reset and a host on another port: per wall (a window's wall name: the Electron display it stands on,
 * `?wall=` in the browser host's address, `default` for a window without one) its layout, tiles and tour
 * (轮巡); and the console's named layouts (预案布局), the same for every window.
 */
import { z } from 'zod';
import { IsoTime } from '../model';

export const VIDEO_LAYOUTS = ['1', '4', '9', '16', '1+5', '1+7'] as const;
export const VideoLayout = z.enum(VIDEO_LAYOUTS);
export type VideoLayout = z.infer<typeof VideoLayout>;
export const VIDEO_WALL_MAX_TILES = 16;

/** A wall's name: letters, digits, - and _ (the URL's ?wall=, or display-<id> under Electron). */
export const WallName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
export type WallName = z.infer<typeof WallName>;
export const DEFAULT_WALL_NAME = 'default';
/**
 * The hub remembers at most this many walls (a console has a few displays; `?wall=` names are the page's to
 * choose): saving a new one beyond it forgets the walls saved longest ago.
 */
export const WALL_LIMIT = 64;

const CameraId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const Tiles = z.array(CameraId.nullable()).max(VIDEO_WALL_MAX_TILES);

/**
 * A tour (轮巡) as a group, not a camera list (a city has thousands; they come and go): every online camera
 * ('online'), the cameras nearest the console's area ('nearby'), or one district's (its id). Its label is worded by the window from the group.
 */
export const WallTour = z
  .object({
    group: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    intervalSec: z.number().int().min(5).max(3600),
    page: z.number().int().nonnegative().max(1_000_000),
  })
  .strict();
export type WallTour = z.infer<typeof WallTour>;

/** The version this program writes; a saved state of another version is not used (and kept aside). */
export const WALL_STATE_VERSION = 1;
export const WallState = z.object({ version: z.literal(WALL_STATE_VERSION), layout: VideoLayout, tiles: Tiles, tour: WallTour.nullable() }).strict();
export type WallState = z.infer<typeof WallState>;

export const WallPresetName = z.string().trim().min(1).max(40);
export const WallPreset = z.object({ name: WallPresetName, layout: VideoLayout, tiles: Tiles, savedAt: IsoTime }).strict();
export type WallPreset = z.infer<typeof WallPreset>;
export const WALL_PRESET_LIMIT = 100;
export const WallPresets = z.object({ presets: z.array(WallPreset).max(WALL_PRESET_LIMIT) }).strict();
export type WallPresets = z.infer<typeof WallPresets>;

/**
 * getWall's answer: the wall's saved state (null: nothing saved, or not usable), why a saved one was not used
 * ('corrupt': not readable; 'newer-version': written by a newer program; the row is kept aside, never
 * overwritten), and the named layouts.
 */
export const WallMemory = z
  .object({
    state: WallState.nullable(),
    problem: z.object({ code: z.enum(['corrupt', 'newer-version']), detail: z.string().max(500) }).nullable(),
    presets: z.array(WallPreset).max(WALL_PRESET_LIMIT),
  })
  .strict();
export type WallMemory = z.infer<typeof WallMemory>;
