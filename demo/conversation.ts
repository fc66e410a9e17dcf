// The conversation as the demo shows it, kept in IndexedDB so a reload shows
// it again. It lives in a database of the demo's own (`<dbName>-conversation`),
// apart from the memories: clearing it never deletes a memory. Each message is
// one row, keyed in order, under the user and role it was said as.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/** A memory as an answer listed it (a chip: text, tier, and why it was picked). */
export interface ShownMemory {
  text: string;
  tier: string;
  reasons: string[];
}

/** One message as shown. */
export type ShownMessage =
  | { role: 'user'; text: string }
  /** An answer: `text` is the reply exactly as the engine made it (the scheduler worker's history holds the same text). */
  | { role: 'assistant'; kind: 'reply'; text: string; meta: string; used: ShownMemory[] }
  /** No model yet: a note, and the memories that would have gone with the message. */
  | { role: 'assistant'; kind: 'note'; text: string; used: ShownMemory[] }
  | { role: 'assistant'; kind: 'error'; text: string };

/** An answer as shown. */
export type ShownAnswer = Exclude<ShownMessage, { role: 'user' }>;

/** A stored row: the message, its scope (user and role) and when it was said. */
export type StoredMessage = ShownMessage & { id?: number; scope: string; at: number };

interface ConversationDB extends DBSchema {
  messages: { key: number; value: StoredMessage; indexes: { 'by-scope': string } };
}

export interface ConversationScope {
  user: string;
  role?: string;
}

export interface Conversation {
  /** The messages of this user and role, oldest first. */
  load(): Promise<ShownMessage[]>;
  add(message: ShownMessage): Promise<void>;
  /** Deletes this user's and role's messages (never a memory). */
  clear(): Promise<void>;
  close(): void;
}

/** The turns the engine's prompt continues: each user message that was answered, with its reply as made. */
export function historyOf(messages: readonly ShownMessage[]): { role: 'user' | 'assistant'; text: string }[] {
  const turns: { role: 'user' | 'assistant'; text: string }[] = [];
  messages.forEach((m, i) => {
    const next = messages[i + 1];
    if (m.role === 'user' && next?.role === 'assistant' && next.kind === 'reply') turns.push({ role: 'user', text: m.text }, { role: 'assistant', text: next.text });
  });
  return turns;
}

/** The conversation of `scope` in `<dbName>-conversation`; the database opens on first use. */
export function openConversation(dbName: string, scope: ConversationScope, options: { clock?: () => number } = {}): Conversation {
  const key = JSON.stringify([scope.user, scope.role ?? '']);
  const clock = options.clock ?? Date.now;
  let db: Promise<IDBPDatabase<ConversationDB>> | undefined;
  const open = () =>
    (db ??= openDB<ConversationDB>(`${dbName}-conversation`, 1, {
      upgrade(d) {
        d.createObjectStore('messages', { keyPath: 'id', autoIncrement: true }).createIndex('by-scope', 'scope');
      },
    }));
  return {
    async load() {
      const rows = await (await open()).getAllFromIndex('messages', 'by-scope', key);
      return rows.sort((a, b) => a.id! - b.id!).map(({ id: _id, scope: _scope, at: _at, ...message }) => message as ShownMessage);
    },
    async add(message) {
      await (await open()).add('messages', { ...message, scope: key, at: clock() });
    },
    async clear() {
      const tx = (await open()).transaction('messages', 'readwrite');
      // Only requests of this transaction are awaited inside it (it would commit at any other await).
      let cursor = await tx.store.index('by-scope').openCursor(key);
      while (cursor) {
        await cursor.delete();
        cursor = await cursor.continue();
      }
      await tx.done;
    },
    close() {
      void db?.then((d) => d.close(), () => undefined);
      db = undefined;
    },
  };
}
