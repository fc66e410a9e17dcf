import { registerSW } from 'virtual:pwa-register';
import { mountDemo } from './app';

// The service worker precaches the app shell, so after the first visit the app loads offline.
registerSW({ immediate: true });
void mountDemo(document.querySelector<HTMLElement>('#app')!);
