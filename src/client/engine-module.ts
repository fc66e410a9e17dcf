// What the client loads only when an app asks the on-device engine to answer:
// engine choice, the engines' worker clients and the OpenAI-shaped API. The
// classic script imports it by URL; bundlers split it into its own chunk.
export { createEngine } from '../engine/create';
export { createChatCompletions } from '../engine/openai';
