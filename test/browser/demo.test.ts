import { afterEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { mountDemo } from '../../demo/app';
import '../../demo/style.css';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  document.body.replaceChildren();
});

const items = () => [...document.querySelectorAll<HTMLLIElement>('.memories li:not(.empty)')];
const texts = () => items().map((li) => li.querySelector('.text')?.textContent);
async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('demo page', () => {
  it('adds, lists, edits, deletes and searches memories', async () => {
    const root = document.body.appendChild(document.createElement('div'));
    const demo = await mountDemo(root, { dbName: `demo-${crypto.randomUUID()}`, offerModel: false });
    close = demo.close;
    const text = root.querySelector<HTMLTextAreaElement>('textarea[name=text]')!;
    const tags = root.querySelector<HTMLInputElement>('input[name=tags]')!;
    const submit = root.querySelector<HTMLButtonElement>('form button[type=submit]')!;

    for (const [t, tag] of [['Tiles for the bathroom arrive Tuesday', 'renovation'], ['Mortgage rate offer is 3.1%', 'house'], ['Buy milk', '']] as const) {
      await userEvent.fill(text, t);
      await userEvent.fill(tags, tag);
      await userEvent.click(submit);
      await until(() => texts().includes(t));
    }
    expect(texts()).toEqual(['Buy milk', 'Mortgage rate offer is 3.1%', 'Tiles for the bathroom arrive Tuesday']);
    expect(root.querySelector('.status')!.textContent).toMatch(/3 memories · lexical search/);
    expect(items()[2]!.querySelector('.tag')!.textContent).toBe('renovation');

    // Edit
    await userEvent.click(items()[0]!.querySelector('button.link')!);
    const box = root.querySelector<HTMLTextAreaElement>('textarea[aria-label="Edit memory"]')!;
    await userEvent.fill(box, 'Buy oat milk');
    await userEvent.click(items()[0]!.querySelector('button:not(.link)')!);
    await until(() => texts().includes('Buy oat milk'));

    // Search, with the reason for each score
    await userEvent.fill(root.querySelector<HTMLInputElement>('input[type=search]')!, 'tiles');
    await until(() => texts().length === 1);
    expect(texts()).toEqual(['Tiles for the bathroom arrive Tuesday']);
    expect(items()[0]!.querySelector('.score')!.textContent).toMatch(/words #1/);
    await userEvent.fill(root.querySelector<HTMLInputElement>('input[type=search]')!, '');
    await until(() => texts().length === 3);

    // Delete
    const mortgage = items().find((li) => li.textContent!.includes('Mortgage'))!;
    await userEvent.click(mortgage.querySelector('button.danger')!);
    await until(() => texts().length === 2);
    expect(await demo.mneme().count({ scope: { userId: 'me' } })).toBe(2);

    // A bad input shows a clear message and keeps everything
    await userEvent.fill(text, '   ');
    await userEvent.click(submit);
    await until(() => root.querySelector('.error')!.textContent !== '');
    expect(root.querySelector('.error')!.textContent).toMatch(/empty/);
    expect(texts()).toHaveLength(2);
  });

  it('keeps memories across a reload of the page', async () => {
    const dbName = `demo-${crypto.randomUUID()}`;
    const root = document.body.appendChild(document.createElement('div'));
    const first = await mountDemo(root, { dbName, offerModel: false });
    await first.mneme().add({ text: 'Electrician comes Friday', scope: { userId: 'me' } });
    await first.close();
    const second = await mountDemo(root, { dbName, offerModel: false });
    close = second.close;
    expect(texts()).toEqual(['Electrician comes Friday']);
  });
});
