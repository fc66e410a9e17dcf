// Server-side commands the browser tests call through `commands` from 'vitest/browser'.
// They reach Chromium's DevTools protocol, which a page cannot reach by itself.
import type { BrowserCommand } from 'vitest/node';

async function cdp(context: Parameters<BrowserCommand<[]>>[0]) {
  const page = (context as unknown as { page: import('playwright').Page }).page;
  return page.context().newCDPSession(page);
}

/** Sets this origin's storage quota in bytes (Storage.overrideQuotaForOrigin); no argument restores it. */
const setStorageQuota: BrowserCommand<[origin: string, quotaBytes?: number]> = async (context, origin, quotaBytes) => {
  const session = await cdp(context);
  await session.send('Storage.overrideQuotaForOrigin', quotaBytes === undefined ? { origin } : { origin, quotaSize: quotaBytes });
  await session.detach();
};

export const browserCommands = { setStorageQuota };

declare module 'vitest/browser' {
  interface BrowserCommands {
    setStorageQuota: (origin: string, quotaBytes?: number) => Promise<void>;
  }
}
