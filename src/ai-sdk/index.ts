// Mneme for the Vercel AI SDK (`import { mnemeMiddleware, mnemeLanguageModel } from 'mneme/ai-sdk'`):
// memory for any model as middleware, and Mneme's own on-device engine as a
// LanguageModelV4. Both take a client from `create()` of 'mneme/client', so
// they share its worker, scheduler and engine with the drop-in.
export { mnemeMiddleware } from './middleware';
export { MNEME_PROVIDER, mnemeLanguageModel, type MnemeModelOptions } from './provider';
