// Chromium for end-to-end tests, driven by plain Playwright (Debian's browser, never a download).
import { chromium, type Browser } from 'playwright';
import { CHROMIUM_ARGS } from '../../scripts/chromium.mjs';

export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

export function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}
