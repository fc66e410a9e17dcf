// The chat pane: the conversation, what the scheduler predicted (and
// prewarmed) while the person types, and each answer streamed as it is made,
// with its time to first token as timed on this page.
import type { DraftView, SchedulerClient, SendView } from '../src';
import type { TokenChunk } from '../src/engine/types';
import { h } from './dom';

type Memory = SendView['results'][number];

export interface ChatPane {
  element: HTMLElement;
  /** Called after a message was sent and observed (memories may have changed). */
  onSent: () => void;
  /** Called when a prediction while typing settled (the working set moved). */
  onPredicted: () => void;
  setClient(client: SchedulerClient | undefined, modelReady: boolean): void;
  focus(): void;
}

const chips = (memories: readonly Memory[]) => memories.map((m) => h('li', { className: `chip ${m.tier}`, title: m.reasons.join('\n'), textContent: m.text }));

export function chatPane(): ChatPane {
  let client: SchedulerClient | undefined;
  let modelReady = false;
  const log = h('ol', { className: 'messages', ariaLabel: 'Conversation', ariaLive: 'polite' });
  const empty = h('li', { className: 'hello' },
    h('strong', { textContent: 'Tell me about your life; I will remember.' }),
    h('span', { textContent: ' Memories stay in this browser. Ask later, and the right ones come back, even offline.' }));
  log.append(empty);
  const predicted = h('ul', { className: 'predicted' });
  const predictedLabel = h('span', { className: 'label', textContent: 'Predicted while you type' });
  const live = h('section', { className: 'live', ariaLabel: 'Prediction' }, predictedLabel, predicted);
  live.hidden = true;
  const input = h('textarea', { rows: 1, placeholder: 'Message…', ariaLabel: 'Message', name: 'message' });
  const send = h('button', { type: 'submit', className: 'send', textContent: 'Send', ariaLabel: 'Send' });
  const form = h('form', { className: 'composer' }, input, send);
  const element = h('section', { className: 'chat' }, log, live, form);

  const bubble = (role: 'user' | 'assistant', ...children: (Node | string)[]) => {
    empty.remove();
    const li = h('li', { className: `msg ${role}` }, ...children);
    log.append(li);
    li.scrollIntoView({ block: 'end' });
    return li;
  };

  let drafted = 0;
  input.addEventListener('input', () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    const text = input.value;
    const mine = ++drafted;
    if (!client || text.trim() === '') {
      live.hidden = true;
      return;
    }
    const show = (memories: readonly Memory[], label: string) => {
      if (mine !== drafted) return;
      const shown = memories.slice(0, 5);
      live.hidden = shown.length === 0;
      predictedLabel.textContent = label;
      predicted.replaceChildren(...chips(shown));
    };
    // The prediction shows at once; once its prewarm settled, the label says how much of it the cache holds.
    const onPredicted = (memories: Memory[]) => show(memories, `Predicted for this message (${memories.length})`);
    client.call('draft', [text, onPredicted]).then((view: DraftView) => {
      if (view.superseded || mine !== drafted) return;
      show(view.predicted, modelReady ? `In the model's cache: ${view.held} of ${view.predicted.length} predicted` : `Predicted for this message (${view.predicted.length})`);
      pane.onPredicted();
    }, () => undefined);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.onsubmit = async (event) => {
    const submitted = performance.now(); // TTFT counts from here: the press of send, before any await
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !client) return;
    input.value = '';
    input.style.height = 'auto';
    drafted++;
    live.hidden = true;
    bubble('user', h('p', { textContent: text }));
    const typing = h('p', { className: 'typing', textContent: '…' });
    const pending = bubble('assistant', typing);
    const reply = h('p', { className: 'reply' });
    let firstChunk: number | undefined;
    // Each chunk is appended as it arrives; the first one on this page ends the TTFT.
    const onChunk = (chunk: TokenChunk) => {
      if (firstChunk === undefined) {
        firstChunk = performance.now();
        typing.replaceWith(reply);
      }
      reply.append(chunk.text);
      pending.scrollIntoView({ block: 'end' });
    };
    try {
      const sent = await client.call('send', [{ text, k: 5 }, onChunk], { timeoutMs: 600_000 });
      const ended = performance.now();
      await client.call('observe', [{ text, role: 'user' }]);
      // A reply that came with no chunk appears now, so its first token reached the page now.
      pending.replaceChildren(...answer(sent, reply, (firstChunk ?? ended) - submitted));
      pending.scrollIntoView({ block: 'end' });
    } catch (error) {
      pending.replaceChildren(h('p', { className: 'error', textContent: error instanceof Error ? error.message : String(error) }));
    }
    pane.onSent();
  };

  /** The finished answer: the reply (streamed into `reply`), the memories the model saw, and the figures of the send. */
  function answer(sent: SendView, reply: HTMLElement, ttftMs: number): Node[] {
    const used = sent.seen.length > 0 ? [h('ul', { className: 'used', ariaLabel: 'Memories used' }, ...chips(sent.seen))] : [];
    if (!sent.answered) {
      const note = sent.seen.length > 0 ? 'No model yet, so no answer; these memories would go with your message:' : 'Noted. No model yet, so no answer; I will remember what is worth remembering.';
      return [h('p', { className: 'note', textContent: note }), ...used];
    }
    reply.textContent = sent.reply.trim() || '(empty reply)';
    const meta = [
      `TTFT ${Math.round(ttftMs)} ms (on this page)`,
      `${sent.prefillTokensAtSend} of ${sent.promptTokens} prompt tokens prefilled at send`,
      `${sent.heldFinal} of ${sent.results.length} memories held in the cache`,
      `${sent.wastedPrefillTokens} prefilled while typing wasted`,
    ].join(' · ');
    return [reply, ...used, h('p', { className: 'ttft', textContent: meta, title: 'Time to first token: from pressing send to the first streamed token on this page, retrieval, layout and every worker hop included.' })];
  }

  const pane: ChatPane = {
    element,
    onSent: () => {},
    onPredicted: () => {},
    setClient(next, ready) {
      client = next;
      modelReady = ready;
      send.disabled = !next;
    },
    focus: () => input.focus(),
  };
  return pane;
}
