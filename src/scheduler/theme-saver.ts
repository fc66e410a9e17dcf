// When and where a scheduler's themes are saved (theme-state.ts has what):
// read once at start; written saveThemesAfterMs after placements change, and
// when the scheduler is disposed. The saved state is a cache: one that cannot
// be read or written only costs the next start the time to place every memory.
import type { Mneme } from '../mneme';
import type { SnapshotKey } from '../store/schema';
import { isThemeState, themeConfigKey, type ThemeState } from './theme-state';
import type { ThemeIndex } from './themes';

export class ThemeSaver {
  /** A pending save, and whether one is owed. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  private owed = false;
  private readonly key: SnapshotKey;

  constructor(
    private readonly mneme: Mneme,
    private readonly themes: ThemeIndex,
    userId: string,
    /** False: never saved. */
    private readonly delayMs: number | false,
  ) {
    this.key = `themes:${userId}`;
  }

  /** The saved state, when there is one placed under these settings (unreadable means none). */
  async read(): Promise<ThemeState | undefined> {
    const saved = await this.mneme.store.readSnapshot(this.key).catch(() => undefined);
    return saved && isThemeState(saved.data, themeConfigKey(this.themes.config)) ? saved.data : undefined;
  }

  /**
   * Saves the themes now, as of the store's last write. False when a write the scheduler has not followed yet
   * came first (it is tried again later) or the store refused it.
   */
  async save(): Promise<boolean> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const generation = this.mneme.store.generation;
    if (generation === undefined) return false;
    const state = this.themes.save((id) => this.mneme.peek(id)?.text.length ?? 0);
    this.owed = false;
    const saved = await this.mneme.store.writeSnapshot(this.key, generation, state).catch(() => undefined);
    if (saved === false) this.owe();
    return saved === true;
  }

  /** Placements changed (or nothing was saved yet): a save is due after the delay. */
  owe(): void {
    this.owed = true;
    if (this.delayMs === false || this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.save(), this.delayMs);
  }

  /** Saves what is owed, and stops. */
  async dispose(): Promise<void> {
    if (this.owed && this.delayMs !== false) await this.save();
    clearTimeout(this.timer);
  }
}
