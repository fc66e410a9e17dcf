// Chromium for end-to-end tests, driven by plain Playwright (Debian's browser, never a download).
import { chromium, type Browser } from 'playwright';
import { CHROMIUM_ARGS } from '../../scripts/chromium.mjs';

export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

/** Every host but this machine is unresolvable, so nothing can leave it even by mistake (requests are still seen, and logged). */
const LOCAL_ONLY = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1';

export function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, LOCAL_ONLY, ...extraArgs] });
}
