// The chat pane: the conversation, what the scheduler predicted (and
// prewarmed) while the person types, and the time to first token of each answer.
import type { DraftView, SchedulerClient, SendView } from '../src';
import { h } from './dom';

type Memory = SendView['results'][number];

export interface ChatPane {
  element: HTMLElement;
  /** Called after a message was sent and observed (memories may have changed). */
  onSent: () => void;
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
    client.call('draft', [text]).then((view: DraftView) => {
      if (view.superseded || mine !== drafted) return;
      const shown = view.predicted.slice(0, 5);
      live.hidden = shown.length === 0;
      predictedLabel.textContent = modelReady ? `Prewarmed in the model's cache (${view.predicted.length})` : `Predicted for this message (${view.predicted.length})`;
      predicted.replaceChildren(...chips(shown));
    }, () => undefined);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.onsubmit = async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !client) return;
    input.value = '';
    input.style.height = 'auto';
    drafted++;
    live.hidden = true;
    bubble('user', h('p', { textContent: text }));
    const pending = bubble('assistant', h('p', { className: 'typing', textContent: '…' }));
    try {
      const sent = await client.call('send', [text, 5]);
      await client.call('observe', [{ text, role: 'user' }]);
      pending.replaceChildren(...answer(sent));
      pending.scrollIntoView({ block: 'end' });
    } catch (error) {
      pending.replaceChildren(h('p', { className: 'error', textContent: error instanceof Error ? error.message : String(error) }));
    }
    pane.onSent();
  };

  function answer(sent: SendView): Node[] {
    const used = sent.results.length > 0 ? [h('ul', { className: 'used', ariaLabel: 'Memories used' }, ...chips(sent.results))] : [];
    if (!modelReady) {
      const note = sent.results.length > 0 ? 'No model yet, so no answer; these memories would go with your message:' : 'Noted. No model yet, so no answer; I will remember what is worth remembering.';
      return [h('p', { className: 'note', textContent: note }), ...used];
    }
    const meta = `TTFT ${Math.round(sent.ttftMs)} ms · ${sent.prefillTokensAtSend} of ${sent.prefillTokensCold} prompt tokens prefilled at send · ${Math.round(sent.prewarmHit * 100)}% of memories prewarmed`;
    return [h('p', { textContent: sent.reply.trim() || '(empty reply)' }), ...used, h('p', { className: 'ttft', textContent: meta })];
  }

  const pane: ChatPane = {
    element,
    onSent: () => {},
    setClient(next, ready) {
      client = next;
      modelReady = ready;
      send.disabled = !next;
    },
    focus: () => input.focus(),
  };
  return pane;
}
