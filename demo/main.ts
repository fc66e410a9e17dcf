import { mountDemo } from './app';

void mountDemo(document.querySelector<HTMLElement>('#app')!);
