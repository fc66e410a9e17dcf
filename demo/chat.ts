// The chat pane: the conversation, what the scheduler predicted (and
// prewarmed) while the person types, and each answer streamed as it is made,
// with its time to first token as timed on this page. The conversation is kept
// (demo/conversation.ts) and shown again after a reload; the scheduler worker
// is handed the same turns, so its prewarm and its answer continue it.
import type { DraftView, SchedulerClient, SendMessage, SendView } from '../src';
import type { TokenChunk } from '../src/engine/types';
import { historyOf, type Conversation, type ShownAnswer, type ShownMemory, type ShownMessage } from './conversation';
import { h } from './dom';

type Memory = SendView['results'][number];

export interface ChatPane {
  element: HTMLElement;
  /** Called after a message was sent and observed (memories may have changed). */
  onSent: () => void;
  /** Called when a prediction while typing settled and the working set moved. */
  onPredicted: () => void;
  /** Called when the conversation could not be read or kept. */
  onError: (error: unknown) => void;
  setClient(client: SchedulerClient | undefined, modelReady: boolean): void;
  /** Shows the kept conversation of this user and role (and keeps what is said from now on in it). */
  setConversation(conversation: Conversation): Promise<void>;
  focus(): void;
}

const chips = (memories: readonly ShownMemory[]) => memories.map((m) => h('li', { className: `chip ${m.tier}`, title: m.reasons.join('\n'), textContent: m.text }));

/** What the scheduler predicted for the message being typed, and how much of it the model's cache holds. */
function predictionPanel(): { element: HTMLElement; show(memories: readonly Memory[], label: string): void; hide(): void } {
  const list = h('ul', { className: 'predicted' });
  const label = h('span', { className: 'label', textContent: 'Predicted while you type' });
  const element = h('section', { className: 'live', ariaLabel: 'Prediction' }, label, list);
  element.hidden = true;
  return {
    element,
    show(memories, text) {
      const shown = memories.slice(0, 5);
      element.hidden = shown.length === 0;
      label.textContent = text;
      list.replaceChildren(...chips(shown));
    },
    hide: () => (element.hidden = true),
  };
}

/** The finished answer as kept: the reply as made, the memories the model saw, and the figures of the send. */
function answerOf(sent: SendView, ttftMs: number): ShownAnswer {
  const used = sent.seen.map(({ text, tier, reasons }) => ({ text, tier, reasons }));
  if (!sent.answered) {
    const note = sent.seen.length > 0 ? 'No model yet, so no answer; these memories would go with your message:' : 'Noted. No model yet, so no answer; I will remember what is worth remembering.';
    return { role: 'assistant', kind: 'note', text: note, used };
  }
  const meta = [
    `TTFT ${Math.round(ttftMs)} ms (on this page)`,
    `${sent.prefillTokensAtSend} of ${sent.promptTokens} prompt tokens prefilled at send`,
    `${sent.heldFinal} of ${sent.results.length} memories held in the cache`,
    `${sent.wastedPrefillTokens} prefilled while typing wasted`,
  ].join(' · ');
  return { role: 'assistant', kind: 'reply', text: sent.reply, meta, used };
}

/** An answer's bubble content; a live answer passes the `reply` its chunks streamed into. */
function answerNodes(message: ShownAnswer, reply = h('p', { className: 'reply' })): Node[] {
  if (message.kind === 'error') return [h('p', { className: 'error', textContent: message.text })];
  const used = message.used.length > 0 ? [h('ul', { className: 'used', ariaLabel: 'Memories used' }, ...chips(message.used))] : [];
  if (message.kind === 'note') return [h('p', { className: 'note', textContent: message.text }), ...used];
  reply.textContent = message.text.trim() || '(empty reply)';
  return [reply, ...used, h('p', { className: 'ttft', textContent: message.meta, title: 'Time to first token: from pressing send to the first streamed token on this page, retrieval, layout and every worker hop included.' })];
}

/**
 * Sends a message on the worker and streams the reply into `into.reply` as it comes; resolves with the
 * answer as kept. Its TTFT runs from `submitted` (the press of send) to the first chunk on this page.
 */
async function streamAnswer(client: SchedulerClient, message: SendMessage, submitted: number, into: { pending: HTMLElement; typing: HTMLElement; reply: HTMLElement }): Promise<ShownAnswer> {
  let firstChunk: number | undefined;
  const onChunk = (chunk: TokenChunk) => {
    if (firstChunk === undefined) {
      firstChunk = performance.now();
      into.typing.replaceWith(into.reply);
    }
    into.reply.append(chunk.text);
    into.pending.scrollIntoView({ block: 'end' });
  };
  try {
    const sent = await client.call('send', [message, onChunk], { timeoutMs: 600_000 });
    const ended = performance.now();
    await client.call('observe', [{ text: message.text, role: 'user' }]);
    // A reply that came with no chunk appears now, so its first token reached the page now.
    return answerOf(sent, (firstChunk ?? ended) - submitted);
  } catch (error) {
    return { role: 'assistant', kind: 'error', text: error instanceof Error ? error.message : String(error) };
  }
}

/** The conversation as shown: a bubble per message, or the welcome text while there is none. */
function conversationLog(): { element: HTMLElement; bubble(role: 'user' | 'assistant', ...children: (Node | string)[]): HTMLElement; render(messages: readonly ShownMessage[]): void } {
  const element = h('ol', { className: 'messages', ariaLabel: 'Conversation', ariaLive: 'polite' });
  const empty = h('li', { className: 'hello' },
    h('strong', { textContent: 'Tell me about your life; I will remember.' }),
    h('span', { textContent: ' Memories stay in this browser. Ask later, and the right ones come back, even offline.' }));
  element.append(empty);
  const bubble = (role: 'user' | 'assistant', ...children: (Node | string)[]) => {
    empty.remove();
    const li = h('li', { className: `msg ${role}` }, ...children);
    element.append(li);
    li.scrollIntoView({ block: 'end' });
    return li;
  };
  return {
    element,
    bubble,
    render(messages) {
      element.replaceChildren();
      if (messages.length === 0) element.append(empty);
      for (const m of messages) {
        if (m.role === 'user') bubble('user', h('p', { textContent: m.text }));
        else bubble('assistant', ...answerNodes(m));
      }
    },
  };
}

/**
 * Posts every keystroke's draft to the worker: the prediction shows at once, and once its prewarm settled
 * the label says how much of it the model's cache holds. `stop` drops whatever is still in flight (a send).
 */
function predictWhileTyping(input: HTMLTextAreaElement, live: ReturnType<typeof predictionPanel>, context: { client(): SchedulerClient | undefined; modelReady(): boolean; onPredicted(): void }): { stop(): void } {
  let drafted = 0;
  let lastPredicted = '';
  input.addEventListener('input', () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    const text = input.value;
    const mine = ++drafted;
    const client = context.client();
    if (!client || text.trim() === '') return live.hide();
    const show = (memories: readonly Memory[], label: string) => mine === drafted && live.show(memories, label);
    // The prediction shows at once; once its prewarm settled, the label says how much of it the cache holds.
    const onPredicted = (memories: Memory[]) => show(memories, `Predicted for this message (${memories.length})`);
    client.call('draft', [text, onPredicted]).then((view: DraftView) => {
      if (view.superseded || mine !== drafted) return;
      show(view.predicted, context.modelReady() ? `In the model's cache: ${view.held} of ${view.predicted.length} predicted` : `Predicted for this message (${view.predicted.length})`);
      // The inspector re-reads every memory: only when the working set moved, not on every keystroke.
      const ids = view.predicted.map((m) => m.id).join();
      if (ids !== lastPredicted) (lastPredicted = ids), context.onPredicted();
    }, () => undefined);
  });
  return {
    stop() {
      drafted++;
      live.hide();
    },
  };
}

/** What the pane knows: the worker, the kept conversation and what it shows, and whether an answer is coming. */
interface ChatState {
  client: SchedulerClient | undefined;
  modelReady: boolean;
  conversation: Conversation | undefined;
  /** The conversation as shown (and kept), oldest first. */
  shown: ShownMessage[];
  sending: boolean;
}

interface ChatParts {
  log: ReturnType<typeof conversationLog>;
  clear: HTMLButtonElement;
  input: HTMLTextAreaElement;
  /** Shows `message` and keeps it, in the conversation it was said in. */
  keep(message: ShownMessage, into: Conversation | undefined): void;
}

/** The send handler: the message shown and kept, the answer streamed in, both kept. */
function onSubmit(state: ChatState, parts: ChatParts, drafts: { stop(): void }, pane: ChatPane): (event: SubmitEvent) => Promise<void> {
  return async (event) => {
    const submitted = performance.now(); // TTFT counts from here: the press of send, before any await
    event.preventDefault();
    const text = parts.input.value.trim();
    const client = state.client;
    if (!text || !client) return;
    parts.input.value = '';
    parts.input.style.height = 'auto';
    drafts.stop();
    const into = state.conversation;
    const history = historyOf(state.shown); // the turns before this message: the prompt continues them
    state.sending = true;
    parts.clear.disabled = true;
    parts.log.bubble('user', h('p', { textContent: text }));
    parts.keep({ role: 'user', text }, into);
    const typing = h('p', { className: 'typing', textContent: '…' });
    const pending = parts.log.bubble('assistant', typing);
    const reply = h('p', { className: 'reply' });
    const said = await streamAnswer(client, { text, k: 5, history }, submitted, { pending, typing, reply });
    state.sending = false;
    pending.replaceChildren(...answerNodes(said, reply));
    pending.scrollIntoView({ block: 'end' });
    parts.keep(said, into);
    pane.onSent();
  };
}

/** The clear handler. The kept conversation is deleted first, so what is shown never claims a clear that a reload would undo. */
function onClear(state: ChatState, parts: ChatParts, syncHistory: () => void, pane: ChatPane): () => Promise<void> {
  return async () => {
    if (state.sending) return;
    const from = state.conversation;
    parts.clear.disabled = true;
    try {
      await from?.clear();
    } catch (error) {
      parts.clear.disabled = false;
      return pane.onError(error);
    }
    if (from !== state.conversation || state.sending) return;
    state.shown = [];
    parts.log.render(state.shown);
    syncHistory(); // the next prompt starts a new conversation; the memories stay
  };
}

export function chatPane(): ChatPane {
  const state: ChatState = { client: undefined, modelReady: false, conversation: undefined, shown: [], sending: false };
  const log = conversationLog();
  const clear = h('button', { type: 'button', className: 'link clear', textContent: 'Clear conversation', title: 'Clears the conversation shown and kept here. Memories stay: delete them in the inspector.', disabled: true });
  const live = predictionPanel();
  const input = h('textarea', { rows: 1, placeholder: 'Message…', ariaLabel: 'Message', name: 'message' });
  const send = h('button', { type: 'submit', className: 'send', textContent: 'Send', ariaLabel: 'Send' });
  const form = h('form', { className: 'composer' }, input, send);
  const element = h('section', { className: 'chat' }, h('div', { className: 'chat-tools' }, clear), log.element, live.element, form);
  const keep = (message: ShownMessage, into: Conversation | undefined) => {
    if (into !== state.conversation) return; // the user or role changed while it was answered
    state.shown.push(message);
    clear.disabled = state.sending;
    void into?.add(message).catch((error: unknown) => pane.onError(error));
  };
  /**
   * Hands the scheduler worker the conversation shown, as turns, so the prewarms while the next message
   * is typed lay out the same prompt prefix that message's send will: after a reload or a clear.
   */
  const syncHistory = () => {
    if (state.client && state.modelReady) void state.client.call('setConversation', [historyOf(state.shown)]).catch(() => undefined);
  };
  const drafts = predictWhileTyping(input, live, { client: () => state.client, modelReady: () => state.modelReady, onPredicted: () => pane.onPredicted() });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const pane: ChatPane = {
    element,
    onSent: () => {},
    onPredicted: () => {},
    onError: () => {},
    setClient(next, ready) {
      state.client = next;
      state.modelReady = ready;
      send.disabled = !next;
      syncHistory(); // a newly loaded engine has a new predictor, with no history yet
    },
    async setConversation(next) {
      state.conversation?.close();
      Object.assign(state, { conversation: next, sending: false, shown: [] });
      try {
        state.shown = await next.load();
      } catch (error) {
        pane.onError(error);
      }
      if (next !== state.conversation) return;
      log.render(state.shown);
      clear.disabled = state.shown.length === 0;
      syncHistory();
    },
    focus: () => input.focus(),
  };
  const parts: ChatParts = { log, clear, input, keep };
  form.onsubmit = onSubmit(state, parts, drafts, pane);
  clear.onclick = onClear(state, parts, syncHistory, pane);
  return pane;
}
