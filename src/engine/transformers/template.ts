// The chat template pieces of a transformers.js tokenizer, read off its own
// Jinja chat template: it renders conversations whose contents are a sentinel,
// and the text around the sentinels is the turn openings, the turn end and the
// prompt prefix. Works for ChatML (SmolLM), Llama 3 and templates of that
// shape; one that renders anything else (a default system prompt, contents
// rewritten) is refused with a clear error.
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelError } from '../../errors';
import type { ChatRole, ChatTemplatePieces } from '../types';

const SENTINEL = '\u{E000}mneme\u{E000}';

/** What this module needs of a tokenizer. */
export type TemplateTokenizer = Pick<PreTrainedTokenizer, 'apply_chat_template' | 'encode' | 'all_special_tokens' | 'all_special_ids' | 'eos_token_id'>;

/** Token ids of a text on its own, with no special tokens added (control-token texts still map to their ids). */
export function encodeText(tokenizer: Pick<PreTrainedTokenizer, 'encode'>, text: string): number[] {
  return tokenizer.encode(text, { add_special_tokens: false });
}

/** @throws ModelError('model-load-failed') when the template is not of a supported shape */
export function templatePieces(tokenizer: TemplateTokenizer, model: string): ChatTemplatePieces {
  const render = (roles: ChatRole[], generation: boolean): string[] =>
    String(
      tokenizer.apply_chat_template(
        roles.map((role) => ({ role, content: SENTINEL })),
        { tokenize: false, add_generation_prompt: generation },
      ),
    ).split(SENTINEL);
  const refuse = (why: string) =>
    new ModelError('model-load-failed', `The chat template of ${model} has a shape Mneme cannot split into turns (${why}); choose a model with a ChatML- or Llama-3-style template`);

  // [prefix + open(system), end + open(user), end + open(assistant), end]
  const parts = render(['system', 'user', 'assistant'], false);
  const withGeneration = render(['user'], true);
  if (parts.length !== 4 || withGeneration.length !== 2) throw refuse('a message content did not appear exactly once');
  const turnEnd = parts[3] as string;
  const [head, userPart, assistantPart] = parts as [string, string, string];
  if (!userPart.startsWith(turnEnd) || !assistantPart.startsWith(turnEnd) || !withGeneration[1]!.startsWith(turnEnd)) throw refuse('turns do not end alike');
  const open: Record<ChatRole, string> = {
    system: '',
    user: userPart.slice(turnEnd.length),
    assistant: assistantPart.slice(turnEnd.length),
  };
  // The prefix is what a user-first conversation starts with before the user's opening.
  const userFirst = render(['user'], false)[0] as string;
  if (!userFirst.endsWith(open.user)) throw refuse('the prompt prefix varies');
  const prefix = userFirst.slice(0, userFirst.length - open.user.length);
  if (!head.startsWith(prefix)) throw refuse('the system turn does not follow the prefix');
  open.system = head.slice(prefix.length);
  const generation = withGeneration[1]!.slice(turnEnd.length);
  if (generation !== open.assistant) throw refuse('the generation prompt differs from an assistant turn opening');

  const ids = (text: string) => encodeText(tokenizer, text);
  const specialTexts = tokenizer.all_special_tokens.filter((t) => t.length > 0);
  const eos = tokenizer.eos_token_id;
  const endIds = ids(turnEnd);
  const stopTokens = [...new Set([...(endIds.length > 0 ? [endIds[0] as number] : []), ...(typeof eos === 'number' ? [eos] : [])])];
  if (stopTokens.length === 0) throw refuse('no end-of-turn token');
  return {
    prefix: ids(prefix),
    turnStart: { system: ids(open.system), user: ids(open.user), assistant: ids(open.assistant) },
    turnEnd: endIds,
    stopTokens,
    specialTexts,
  };
}
