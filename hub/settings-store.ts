import { mkdirSync, readFileSync, renameSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_MAP_SOURCES, DEFAULT_SETTINGS, HubError, Settings, SettingsPatch, describeIssues, validate, type HubNotice } from '../protocol';
import { ObservableValue } from './observable';
import type { Logger } from '../node-util/logger';

export const SETTINGS_FILE_NAME = 'settings.json';

/**
 * Console settings in one JSON file in the user data dir. Written atomically (temp file + rename) so a crash
 * mid-write never leaves half a file. A file holding only some keys (a city's GIS team writing just
 * map.gridsGeoJsonUrl) takes the defaults for the rest, inside `map` too; keys of older versions are dropped at the
 * top level. A file that cannot be used (not JSON, not an object, a value of the wrong type, an unknown key inside
 * `map`) is kept aside as settings.json.corrupt-<time> and defaults are used, with a notice for the user.
 */
export class SettingsStore {
  readonly file: string;
  readonly settings: ObservableValue<Settings>;
  /** Set when the file on disk could not be used at start; shown to the user once. */
  readonly startupNotice: HubNotice | null;

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = join(dataDir, SETTINGS_FILE_NAME);
    const loaded = this.load();
    this.settings = new ObservableValue(loaded.settings);
    this.startupNotice = loaded.notice;
  }

  private load(): { settings: Settings; notice: HubNotice | null } {
    if (!existsSync(this.file)) return { settings: defaults(), notice: null };
    let problem: string;
    try {
      const raw: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      if (!isPlainObject(raw)) {
        problem = `expected a JSON object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`;
      } else {
        const checked = validate(Settings, withDefaults(raw));
        if (checked.ok) return { settings: checked.value, notice: null };
        problem = describeIssues(checked.issues);
      }
    } catch (e) {
      problem = (e as Error).message;
    }
    const aside = `${this.file}.corrupt-${Date.now()}`;
    try {
      copyFileSync(this.file, aside);
    } catch {
      /* keeping a copy is best effort; the defaults still apply */
    }
    this.log.warn('settings file unusable, using defaults', { file: this.file, problem, keptAs: aside });
    return { settings: defaults(), notice: { code: 'settings-set-aside', keptAs: aside, detail: problem } };
  }

  update(patch: unknown): Settings {
    const checkedPatch = validate(SettingsPatch, patch);
    if (!checkedPatch.ok) {
      throw new HubError('invalid-params', `invalid settings: ${describeIssues(checkedPatch.issues)}`, checkedPatch.issues);
    }
    const next = Settings.parse({ ...this.settings.value, ...checkedPatch.value });
    this.write(next);
    this.settings.set(next);
    return next;
  }

  private write(settings: Settings): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
    renameSync(temp, this.file);
  }
}

function defaults(): Settings {
  return { ...DEFAULT_SETTINGS, map: { ...DEFAULT_MAP_SOURCES } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file's keys over the defaults, one level deep into `map` (a `map` that is not an object is left to fail). */
function withDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS, ...raw };
  if (isPlainObject(raw.map)) merged.map = { ...DEFAULT_MAP_SOURCES, ...raw.map };
  return merged;
}
