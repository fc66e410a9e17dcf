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

export const browserCommands = { setStorageQuota };

declare module 'vitest/browser' {
  interface BrowserCommands {
    setStorageQuota: (origin: string, quotaBytes?: number) => Promise<void>;
  }
}
