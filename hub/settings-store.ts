import { mkdirSync, readFileSync, renameSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_SETTINGS, HubError, Settings, SettingsPatch, describeIssues, validate } from '../protocol';
import { ObservableValue } from './observable';
import type { Logger } from '../node-util/logger';

export const SETTINGS_FILE_NAME = 'settings.json';

/**
 * Console settings in one JSON file in the user data dir. Written atomically (temp file + rename) so a crash
 * mid-write never leaves half a file; a file that cannot be read is kept aside as settings.json.corrupt-<time>
 * and defaults are used, with a notice for the user.
 */
export class SettingsStore {
  readonly file: string;
  readonly settings: ObservableValue<Settings>;
  /** Set when the file on disk could not be used at start; shown to the user once. */
  readonly startupNotice: string | null;

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = join(dataDir, SETTINGS_FILE_NAME);
    const loaded = this.load();
    this.settings = new ObservableValue(loaded.settings);
    this.startupNotice = loaded.notice;
  }

  private load(): { settings: Settings; notice: string | null } {
    if (!existsSync(this.file)) return { settings: { ...DEFAULT_SETTINGS }, notice: null };
    let problem: string;
    try {
      const raw: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      // Fill keys added by newer versions from defaults; unknown keys from older ones are dropped.
      const checked = validate(Settings, { ...DEFAULT_SETTINGS, ...(typeof raw === 'object' && raw !== null ? raw : {}) });
      if (checked.ok) return { settings: checked.value, notice: null };
      problem = describeIssues(checked.issues);
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
    return { settings: { ...DEFAULT_SETTINGS }, notice: `settings file was unusable (${problem}); defaults in use, old file kept as ${aside}` };
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
