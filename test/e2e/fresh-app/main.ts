// A fresh Vite app that knows Mneme only as the installed package and its public
// API, as the README's "Using it" shows: memory with lexical search (no embedder,
// no engine) and the drop-in client attached to a chat box.
// test/e2e/package.test.ts packs the repository, installs the tarball here, builds and opens it.
import { createMneme, type SearchResult } from '@mneme-ai/mneme';
import { attach, create, type AttachedClient } from '@mneme-ai/mneme/client';

declare global {
  interface Window {
    /** The attached client, for the test to wait on (as the script tag's window.Mneme.attached). */
    chat?: AttachedClient;
    /** The package's `create`, for the test to make clients with other options (an embedder). */
    createClient?: typeof create;
  }
}

const scope = { userId: 'alice' };
const element = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;

function show(results: SearchResult[]): void {
  element('#results').replaceChildren(
    ...results.map((r) => Object.assign(document.createElement('li'), { textContent: r.memory.text })),
  );
}

async function main(): Promise<void> {
  const mneme = await createMneme({ name: 'fresh-app' });
  const count = async () => (element('#count').textContent = String(await mneme.count({ scope })));
  element('#remember').addEventListener('submit', async (event) => {
    event.preventDefault();
    await mneme.add({ text: element<HTMLInputElement>('#text').value, scope });
    element<HTMLInputElement>('#text').value = '';
    await count();
  });
  element('#search').addEventListener('submit', async (event) => {
    event.preventDefault();
    show(await mneme.searchMemory(element<HTMLInputElement>('#query').value, { scope, k: 5 }));
  });
  await count();

  // The page's own chat posts { messages } to /api/chat; the attached client adds the memories it told before.
  const chat = attach('#message', { send: '#send', user: 'bob', dbName: 'fresh-app-chat', endpoint: '/api/chat' });
  element('#chat').addEventListener('submit', async (event) => {
    event.preventDefault();
    const content = element<HTMLInputElement>('#message').value;
    element<HTMLInputElement>('#message').value = '';
    await fetch('/api/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content }] }) });
  });
  window.chat = chat;
  window.createClient = create;
  document.body.dataset.ready = String(await chat.ready);
}

void main();
