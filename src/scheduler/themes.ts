// Themes: memories that belong together. Assignment is online — a new memory
// joins the theme it fits best, or starts one — and rests on three signals:
// shared terms (the most salient term it shares: characteristic of the theme
// and rare overall), co-occurrence (mentioned within the same time window as
// the theme's members), and, only when the embedding model is a real one,
// vector similarity. Co-occurrence needs no model at all.
import { MnemeError } from '../errors';
import { tokenizeWords } from '../search/tokenize';
import { addToSet, deleteFromSet } from '../util/set-map';
import { flatten, themeConfigKey, THEME_STATE_VERSION, type ThemeState } from './theme-state';
import { MentionTimes } from './theme-times';

export interface ThemeConfig {
  /** A memory joins a theme scoring at least this. Default 0.35. */
  joinAt: number;
  weights: { terms: number; cooccurrence: number; embedding: number };
  /** Mentions this close in time count as co-occurring (a sitting of conversation). Default 3 hours. */
  windowMs: number;
  /** Whether vectors carry meaning (false for stand-in or missing models). Default false. */
  semantic: boolean;
}

export const DEFAULT_THEMES: ThemeConfig = {
  joinAt: 0.35,
  weights: { terms: 0.6, cooccurrence: 0.3, embedding: 0.4 },
  windowMs: 3 * 3_600_000,
  semantic: false,
};

/** Once the corpus has this many memories, a term in more than COMMON_SHARE of them names no topic. */
const COMMON_FROM = 50;
const COMMON_SHARE = 0.2;

/**
 * Words that name no topic, whatever the user's corpus: prepositions and adverbs the search
 * stopwords keep (they can matter to a query), and the light verbs and adjectives of everyday
 * requests. Labels only; membership does not use this list.
 */
const LABEL_FILLER = new Set(
  ('along across around behind beside besides beyond near toward towards upon within without onto via also still even yet ' +
    'already ever never always often maybe perhaps really quite almost away back new old good great big small little ' +
    'get gets got getting make makes made making take takes took want wants wanted wanting try tries tried trying need needs ' +
    'needed going goes went come comes came thing things something anything lot lots next last first another every')
    .split(' '),
);

/** Vectors needed before their mean is a background to measure similarity against. */
const MIN_BACKGROUND = 10;

export interface ThemeInput {
  id: string;
  text: string;
  /** When it was mentioned. */
  at: number;
  vector?: Float32Array;
}

export interface Theme {
  id: string;
  members: Set<string>;
  /** Term → how many members use it. */
  terms: Map<string, number>;
  /** Mention times of members, for the co-occurrence window. */
  times: number[];
  centroid?: Float32Array;
}

export interface Assignment {
  theme: string;
  score: number;
  created: boolean;
}

export class ThemeIndex {
  private readonly themes = new Map<string, Theme>();
  private readonly themeOf = new Map<string, string>();
  private readonly termsOf = new Map<string, string[]>();
  private readonly df = new Map<string, number>();
  private readonly vectors = new Map<string, Float32Array | undefined>();
  /** A word each term was written as, for labels ("renovation", not the stem "renov"). */
  private readonly words = new Map<string, string>();
  private nextId = 1;
  /** Term → the themes whose members use it (for `candidates`). */
  private readonly themesOfTerm = new Map<string, Set<Theme>>();
  /** When each theme was mentioned, for co-occurrence. */
  private readonly mentions: MentionTimes<Theme>;
  /** The sum and count of every member's vector, for centred cosines. */
  private vectorSum: Float32Array | undefined;
  private vectorCount = 0;
  /**
   * The state this index was restored from: where each member sits there (built on first need, see termsOfMember),
   * and whether its term tables are still to be built (see materialize).
   */
  private restored: { state: ThemeState; at: Map<string, number> | undefined; tables: boolean } | undefined;

  constructor(readonly config: ThemeConfig = DEFAULT_THEMES) {
    this.mentions = new MentionTimes(config.windowMs);
  }

  private idf(term: string): number {
    const n = this.themeOf.size;
    return Math.log(1 + (n + 1) / ((this.df.get(term) ?? 0) + 0.5));
  }

  /**
   * How characteristic a term is of a theme: the share of the theme's members that carry it,
   * times the share of the other memories that do not. A word the user uses for this topic
   * ("renovation") scores near 1; a word used in every topic ("want", "next") near 0.
   */
  private salience(theme: Theme, term: string, count: number): number {
    const outside = Math.max(1, this.themeOf.size - theme.members.size);
    return (count / theme.members.size) * (1 - ((this.df.get(term) ?? 0) - count) / outside);
  }

  /**
   * How well a memory fits a theme: the larger of the idf-weighted share of the memory's terms the
   * theme uses and the salience of the best shared term; plus co-occurrence, split among the themes
   * mentioned in the same window; plus, for a semantic model, the centred cosine to the theme's mean.
   */
  private score(theme: Theme, terms: string[], m: ThemeInput, together: ReadonlySet<Theme>): number {
    const { weights, semantic } = this.config;
    const n = this.themeOf.size;
    let total = 0;
    let shared = 0;
    let salient = 0;
    for (const t of terms) {
      const w = this.idf(t);
      total += w;
      const count = theme.terms.get(t);
      if (count === undefined) continue;
      shared += w;
      const df = this.df.get(t) ?? 0;
      if (n >= COMMON_FROM && df > COMMON_SHARE * n) continue; // said everywhere (a speaker's name): not a topic
      salient = Math.max(salient, this.salience(theme, t, count));
    }
    const lexical = Math.max(total > 0 ? shared / total : 0, salient);
    let s = weights.terms * lexical;
    if (together.has(theme)) s += weights.cooccurrence / together.size;
    if (semantic && m.vector && theme.centroid) s += weights.embedding * Math.max(0, this.centredCosine(m.vector, theme));
    return s;
  }

  /**
   * Cosine between a vector and a theme's mean, both taken relative to the mean of every vector.
   * Sentence embeddings share a common direction, so raw cosines between unrelated everyday
   * sentences sit well above zero, and a big theme's mean drifts towards that direction until
   * everything fits it. Centring keeps what sets the theme apart. The mean of a few vectors is
   * mostly those vectors, so under MIN_BACKGROUND of them vectors give no evidence.
   */
  private centredCosine(v: Float32Array, theme: Theme): number {
    if (this.vectorCount < MIN_BACKGROUND) return 0;
    const sum = theme.centroid!;
    const size = theme.members.size;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < v.length; i++) {
      const mean = this.vectorSum![i]! / this.vectorCount;
      const a = v[i]! - mean;
      const b = sum[i]! / size - mean;
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
  }

  /** Places a memory in the theme it fits best, or in a new one. Re-adding a memory moves it. */
  assign(m: ThemeInput): Assignment {
    this.materialize();
    this.remove(m.id);
    const tokens = tokenizeWords(m.text);
    for (const { term, word } of tokens) if (!this.words.has(term)) this.words.set(term, word);
    const terms = [...new Set(tokens.map((t) => t.term))];
    let best: Theme | undefined;
    let bestScore = -Infinity;
    // Co-occurrence is split among the themes mentioned in the same window: in a sitting about one
    // or two topics it binds; in a bulk import, where every theme was "mentioned" at once, it says nothing.
    const together = this.mentions.around(m.at);
    for (const theme of this.candidates(terms, m, together)) {
      const s = this.score(theme, terms, m, together);
      if (s > bestScore || (s === bestScore && best && theme.id < best.id)) [best, bestScore] = [theme, s];
    }
    const created = !best || bestScore < this.config.joinAt;
    const theme = created ? this.create() : best!;
    this.join(theme, m.id, terms);
    this.mentions.add(theme, m.at);
    if (m.vector) {
      theme.centroid = addTo(theme.centroid, m.vector, 1);
      this.vectorSum = addTo(this.vectorSum, m.vector, 1);
      this.vectorCount++;
    }
    this.vectors.set(m.id, m.vector);
    return { theme: theme.id, score: created ? 0 : bestScore, created };
  }

  /** Makes a memory with these (distinct) terms a member of a theme. */
  private join(theme: Theme, id: string, terms: string[]): void {
    theme.members.add(id);
    for (const t of terms) {
      theme.terms.set(t, (theme.terms.get(t) ?? 0) + 1);
      this.df.set(t, (this.df.get(t) ?? 0) + 1);
      addToSet(this.themesOfTerm, t, theme);
    }
    this.themeOf.set(id, theme.id);
    this.termsOf.set(id, terms);
  }

  /** A member's terms: kept since it was placed, or read from the state it was restored from (on first need). */
  private termsOfMember(id: string): string[] {
    let terms = this.termsOf.get(id);
    if (!terms && this.restored) {
      const { state } = this.restored;
      const at = (this.restored.at ??= new Map(state.members.map((m, i) => [m, i])));
      const i = at.get(id)!;
      terms = Array.from(state.memberTerms.subarray(i === 0 ? 0 : state.termEnds[i - 1], state.termEnds[i]), (t) => state.vocabulary[t]!);
      this.termsOf.set(id, terms);
    }
    return terms!;
  }

  /**
   * The index as a saved state (theme-state.ts), with `lengthOf` each member's current text length.
   * Vectors are left out.
   */
  save(lengthOf: (id: string) => number): ThemeState {
    this.materialize();
    const vocabulary = [...this.df.keys()];
    const at = new Map(vocabulary.map((t, i) => [t, i]));
    const themes = [...this.themes.values()];
    const themeAt = new Map(themes.map((t, i) => [t.id, i]));
    const members = [...this.themeOf.keys()];
    const termsOf = flatten(members.map((id) => this.termsOfMember(id).map((t) => at.get(t)!)), Uint32Array);
    this.restored = undefined; // every member's terms are read back now: the restored state is no longer needed
    const themeTerms = flatten(themes.map((theme) => [...theme.terms.keys()].map((t) => at.get(t)!)), Uint32Array);
    const times = flatten(themes.map((t) => t.times), Float64Array);
    return {
      version: THEME_STATE_VERSION,
      config: themeConfigKey(this.config),
      nextId: this.nextId,
      vocabulary,
      words: vocabulary.map((t) => (this.words.get(t) === t ? '' : (this.words.get(t) ?? ''))),
      df: Uint32Array.from(vocabulary, (t) => this.df.get(t)!),
      themes: themes.map((t) => t.id),
      themeTerms: themeTerms.flat as Uint32Array,
      themeTermCounts: Uint32Array.from(themes.flatMap((theme) => [...theme.terms.values()])),
      themeTermEnds: themeTerms.ends,
      times: times.flat as Float64Array,
      timeEnds: times.ends,
      members,
      memberTheme: Uint32Array.from(members, (id) => themeAt.get(this.themeOf.get(id)!)!),
      memberLength: Uint32Array.from(members, lengthOf),
      memberTerms: termsOf.flat as Uint32Array,
      termEnds: termsOf.ends,
      coveredAt: this.mentions.latest,
    };
  }

  /**
   * Restores a saved state (checked with isThemeState) into this empty index: each theme with its
   * members and mention times now, so themes can be read at once; nothing is tokenized or scored.
   * The term tables (counts, document frequencies, words) are built from the state when first
   * needed (`materialize`), and a member's own terms only when it leaves.
   */
  restore(state: ThemeState): void {
    if (this.themes.size > 0) throw new MnemeError('internal', 'ThemeIndex.restore needs an empty index.');
    this.nextId = state.nextId;
    const themes = state.themes.map((id, i): Theme => {
      const theme: Theme = { id, members: new Set(), terms: new Map(), times: [] };
      this.themes.set(id, theme);
      for (let j = i === 0 ? 0 : state.timeEnds[i - 1]!; j < state.timeEnds[i]!; j++) this.mentions.add(theme, state.times[j]!);
      return theme;
    });
    state.members.forEach((id, i) => {
      const theme = themes[state.memberTheme[i]!]!;
      theme.members.add(id);
      this.themeOf.set(id, theme.id);
    });
    this.restored = { state, at: undefined, tables: true };
    for (const theme of themes) if (theme.members.size === 0) this.drop(theme);
  }

  /** Builds the term tables of a restored state, if not yet: every method that reads or changes them calls this first. */
  materialize(): void {
    if (!this.restored?.tables) return;
    const { state } = this.restored;
    this.restored.tables = false;
    const { vocabulary } = state;
    vocabulary.forEach((t, i) => {
      this.words.set(t, state.words[i] || t);
      this.df.set(t, state.df[i]!);
    });
    state.themes.forEach((id, i) => {
      const theme = this.themes.get(id);
      if (!theme) return; // no members
      for (let j = i === 0 ? 0 : state.themeTermEnds[i - 1]!; j < state.themeTermEnds[i]!; j++) {
        const t = vocabulary[state.themeTerms[j]!]!;
        theme.terms.set(t, state.themeTermCounts[j]!);
        addToSet(this.themesOfTerm, t, theme);
      }
    });
  }

  /** Another mention of a member: it now co-occurs with what is said around it. */
  mention(id: string, at: number): void {
    const theme = this.themes.get(this.themeOf.get(id) ?? '');
    if (!theme) return;
    this.mentions.add(theme, at);
  }

  /**
   * The themes a memory can score on: those that share a term with it, or were mentioned in its
   * window; with vectors that carry meaning (and a background for them), every theme. The others
   * score 0, under any `joinAt`, so a memory is placed as if all were scored.
   */
  private candidates(terms: readonly string[], m: ThemeInput, together: ReadonlySet<Theme>): Iterable<Theme> {
    if (this.config.semantic && m.vector && this.vectorCount >= MIN_BACKGROUND) return this.themes.values();
    const out = new Set(together);
    for (const t of terms) for (const theme of this.themesOfTerm.get(t) ?? []) out.add(theme);
    return out;
  }

  remove(id: string): void {
    this.materialize();
    const themeId = this.themeOf.get(id);
    if (themeId === undefined) return;
    const theme = this.themes.get(themeId)!;
    theme.members.delete(id);
    for (const t of this.termsOfMember(id)) {
      const c = theme.terms.get(t)! - 1;
      if (c === 0) theme.terms.delete(t), deleteFromSet(this.themesOfTerm, t, theme);
      else theme.terms.set(t, c);
      const d = this.df.get(t)! - 1;
      if (d === 0) this.df.delete(t);
      else this.df.set(t, d);
    }
    const v = this.vectors.get(id);
    if (v && theme.centroid) {
      theme.centroid = addTo(theme.centroid, v, -1);
      this.vectorSum = addTo(this.vectorSum, v, -1);
      this.vectorCount--;
    }
    if (theme.members.size === 0) this.drop(theme);
    this.themeOf.delete(id);
    this.termsOf.delete(id);
    this.vectors.delete(id);
  }

  private drop(theme: Theme): void {
    this.themes.delete(theme.id);
    this.mentions.drop(theme);
  }

  get(themeId: string): Theme | undefined {
    this.materialize();
    return this.themes.get(themeId);
  }

  of(memoryId: string): Theme | undefined {
    this.materialize();
    return this.themes.get(this.themeOf.get(memoryId) ?? '');
  }

  all(): Theme[] {
    this.materialize();
    return [...this.themes.values()];
  }

  /**
   * A readable name: the theme's most characteristic words (by salience, as membership is
   * decided), written as the user wrote them. Numbers, words under three letters, and words
   * that name no topic (LABEL_FILLER) are left out.
   */
  label(theme: Theme, size = 3): string {
    this.materialize();
    return [...theme.terms]
      .map(([t, c]) => ({ t, word: this.words.get(t) ?? t, w: this.salience(theme, t, c) }))
      .filter(({ word }) => word.length >= 3 && !/\d/.test(word) && !LABEL_FILLER.has(word))
      .sort((a, b) => b.w - a.w || (a.t < b.t ? -1 : 1))
      .slice(0, size)
      .map((x) => x.word)
      .join(' ');
  }

  private create(): Theme {
    const theme: Theme = { id: `t${this.nextId++}`, members: new Set(), terms: new Map(), times: [] };
    this.themes.set(theme.id, theme);
    return theme;
  }
}

/** The centroid is kept as a sum; cosine does not care about its length. */
function addTo(sum: Float32Array | undefined, v: Float32Array, sign: 1 | -1): Float32Array {
  const out = sum ? Float32Array.from(sum) : new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i]! += sign * v[i]!;
  return out;
}
