// The prediction core's protocol: the events it takes and the commands it
// returns, and the shapes both carry (in the manner of comlink's protocol.ts:
// one union keyed by `type`, a sequence number on every draft and send).

export interface Turn {
  role: 'user' | 'assistant';
  text: string;
}

/** A memory the search found, with its approximate token count in a prompt. */
export interface Candidate {
  id: string;
  tokens: number;
}

/** What a prompt holds, by memory id; the runner lays it out as tokens. */
export interface Layout {
  system: string;
  history: readonly Turn[];
  /** Working-set memory ids, in prompt order. */
  working: readonly string[];
  draft: string;
  /** Closes the user's turn and opens the assistant's (a send); false for a prewarm prefix. */
  final: boolean;
}

/** What an engine call left in the cache, as it reported it. */
export interface CacheOutcome {
  /** Prompt tokens the cache already held and kept. */
  reused: number;
  /** Prompt tokens fed through the model by this call. */
  prefilled: number;
  /** Tokens the cache holds afterwards. */
  length: number;
  /** Working memories of the call's layout wholly inside the cache (for a generate: inside the reused prefix). */
  heldIds: readonly string[];
}

export type CoreEvent =
  /** The caller's user and role; another one than before drops everything prewarmed. */
  | { type: 'context'; key: string }
  /** The conversation the next prompt continues (a page that keeps its own, restored after a reload). */
  | { type: 'conversation'; history: readonly Turn[]; system?: string }
  | { type: 'draft'; seq: number; text: string }
  /** `answer: false` picks the memories for someone else's model (augment): nothing is generated. */
  | { type: 'send'; seq: number; text: string; k: number; answer: boolean; history?: readonly Turn[]; system?: string }
  | { type: 'searched'; seq: number; found: readonly Candidate[] }
  | { type: 'prewarmed'; seq: number; outcome: CacheOutcome }
  /** A prewarm was never started (a newer draft or a send came while it was laid out): the cache is as it was. */
  | { type: 'prewarm-skipped'; seq: number }
  | { type: 'generated'; seq: number; outcome: CacheOutcome; reply: string }
  /** An engine call failed: what the cache holds is unknown. */
  | { type: 'failed'; seq: number }
  /** A search failed: that draft or send is over; the cache is as it was. */
  | { type: 'search-failed'; seq: number };

export type CoreCommand =
  /** `context`: the last turns of the conversation, evidence for what the message is about (absent when there are none). */
  | { type: 'search'; seq: number; query: string; k: number; draft: boolean; context?: string }
  | { type: 'predicted'; seq: number; ids: readonly string[]; prewarm: boolean }
  | { type: 'superseded'; seq: number }
  | { type: 'prewarm'; seq: number; layout: Layout }
  /** Stop any prewarm in flight (the context changed). */
  | { type: 'cancel-prewarm' }
  | { type: 'generate'; seq: number; layout: Layout; final: readonly string[] }
  | { type: 'record-uses'; ids: readonly string[]; use: 'retrieval' }
  | { type: 'sent'; seq: number; report: SendFigures };

/** The numbers of one send, from what the cache held. */
export interface SendFigures {
  /** The final set, ranked. */
  final: readonly string[];
  /** Exactly the working memories the model saw, in prompt order. */
  seen: readonly string[];
  /** Final memories the cache held at send (their tokens were reused, not prefilled). */
  heldFinal: readonly string[];
  tokensReused: number;
  tokensPrefilledAtSend: number;
  /** Tokens prefilled while typing, since the last send. */
  typingPrefilled: number;
  /** Of those, the ones the send did not reuse. */
  wastedPrefill: number;
}
