// Wiring to a chat UI that already exists: its textarea (or input, or
// contenteditable) and its send button or Enter key. Listeners only read the
// page; they never cancel the host's own handlers, so the host's chat works
// whatever Mneme does. The text is read in the capture phase, before the
// host's handler clears the box.
import type { MnemeClient } from './client';

export interface AttachOptions {
  /** The send button; without one, Enter (without Shift) in the input is the send. */
  send?: Element | null;
}

/** Stops listening. */
export type Detach = () => void;

function textOf(input: HTMLElement): string {
  return input instanceof HTMLTextAreaElement || input instanceof HTMLInputElement ? input.value : (input.innerText ?? input.textContent ?? '');
}

export function attachTo(client: MnemeClient, input: HTMLElement, options: AttachOptions = {}): Detach {
  let lastSent = '';
  const onInput = () => client.draft(textOf(input));
  const onSend = () => {
    const text = textOf(input).trim();
    if (text === '' || text === lastSent) return; // a click and an Enter for one message
    lastSent = text;
    void client.send(text);
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) onSend();
  };
  const onTyped = () => (lastSent = lastSent === textOf(input).trim() ? lastSent : '');
  input.addEventListener('input', onInput);
  input.addEventListener('input', onTyped);
  input.addEventListener('keydown', onKey, { capture: true });
  options.send?.addEventListener('click', onSend, { capture: true });
  const form = input.closest('form');
  form?.addEventListener('submit', onSend, { capture: true });
  return () => {
    input.removeEventListener('input', onInput);
    input.removeEventListener('input', onTyped);
    input.removeEventListener('keydown', onKey, { capture: true });
    options.send?.removeEventListener('click', onSend, { capture: true });
    form?.removeEventListener('submit', onSend, { capture: true });
  };
}
