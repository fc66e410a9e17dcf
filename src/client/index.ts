// The drop-in client for bundlers: `import { attach } from 'mneme/client'`.
// The scheduler runs in its worker; the engine code is a chunk of its own,
// fetched only when the on-device engine is asked to answer.
import { createSchedulerWorker } from '../scheduler/client';
import { dropIn } from './drop-in';

export const { create, attach } = dropIn({ worker: () => createSchedulerWorker(), engine: () => import('./engine-module') });
export { augmentMessages, memoryNote, type ChatMessage } from './augment';
export type { ClientEventMap, ClientOptions, Degradation, MnemeClient } from './client';
export type { AttachedClient, DropInOptions } from './drop-in';
