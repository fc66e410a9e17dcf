// Server-side commands the browser tests call through `commands` from 'vitest/browser'.
// They reach Chromium's DevTools protocol, which a page cannot reach by itself.
import type { CDPSession, Page } from 'playwright';
import type { BrowserCommand } from 'vitest/node';

/** Chrome drops a quota override when its DevTools session closes, so the session stays open until the quota is restored. */
const quotaSessions = new Map<string, CDPSession>();

/** Sets this origin's storage quota in bytes (Storage.overrideQuotaForOrigin); no size restores the real quota. */
const setStorageQuota: BrowserCommand<[origin: string, quotaBytes?: number]> = async (context, origin, quotaBytes) => {
  const page = (context as unknown as { page: Page }).page;
  let session = quotaSessions.get(origin);
  if (!session) {
    session = await page.context().newCDPSession(page);
    quotaSessions.set(origin, session);
  }
  if (quotaBytes === undefined) {
    await session.send('Storage.overrideQuotaForOrigin', { origin });
    await session.detach();
    quotaSessions.delete(origin);
  } else {
    await session.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: quotaBytes });
  }
};

/** Extra pages (tabs) a test opened, by id, for multi-tab and crash tests. */
const pages = new Map<string, Page>();

/** Opens `path` (on the test server) in a new tab of the same browser context; returns its id. */
const openPage: BrowserCommand<[path: string]> = async (context, path) => {
  const page = (context as unknown as { page: Page }).page;
  const tab = await page.context().newPage();
  await tab.goto(new URL(path, page.url()).href);
  const id = crypto.randomUUID();
  pages.set(id, tab);
  return id;
};

/** Ends a tab: 'close' as a user closing it (no unload handlers), 'crash' as its renderer dying. */
const closePage: BrowserCommand<[id: string, how?: 'close' | 'crash']> = async (_context, id, how = 'close') => {
  const tab = pages.get(id);
  if (!tab) throw new Error(`no page ${id}`);
  pages.delete(id);
  if (how === 'crash') {
    const session = await tab.context().newCDPSession(tab);
    const crashed = new Promise((done) => tab.once('crash', done));
    void session.send('Page.crash').catch(() => undefined); // the renderer dies before it answers
    await crashed;
  }
  await tab.close({ runBeforeUnload: false });
};

export const browserCommands = { setStorageQuota, openPage, closePage };

declare module 'vitest/browser' {
  interface BrowserCommands {
    setStorageQuota: (origin: string, quotaBytes?: number) => Promise<void>;
    openPage: (path: string) => Promise<string>;
    closePage: (id: string, how?: 'close' | 'crash') => Promise<void>;
  }
}
