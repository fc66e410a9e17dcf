// The drop-in client for bundlers: `import { attach } from '@mneme-ai/mneme/client'`.
// The scheduler runs in its worker, which also owns the one engine (its code
// is fetched only when an engine is loaded).
import { createSchedulerWorker } from '../scheduler/client';
import { dropIn } from './drop-in';

export const { create, attach } = dropIn({ worker: () => createSchedulerWorker() });
export { augmentMessages, memoryNote, type ChatMessage, type RoleMessage, type SystemNote } from './augment';
export type { ClientEventMap, ClientOptions, Degradation, MnemeClient } from './client';
export type { AttachedClient, DropInOptions } from './drop-in';
export type { StaticEmbedderConfig } from '../embed/static-config';
