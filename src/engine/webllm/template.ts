// The chat template as token ids, from the model's own mlc-chat-config.json
// (`conv_template`), rendered the way WebLLM's Conversation renders a prompt
// (index.js 10405–10520: system_template, roles + role_content_sep, seps) but
// piece by piece, so prompts are joined from ids and never re-tokenized.
import type { ConvTemplate } from './internals';
import { ModelError } from '../../errors';
import type { ChatTemplatePieces } from '../types';

const SYSTEM_PLACEHOLDER = '{system_message}';

/** Control-token texts the template uses (`<|im_start|>`, `<|eot_id|>`, `</s>`, `[INST]` …). */
const CONTROL_TEXT = /<\|[^|<>\s]{1,40}\|>|<\/?s>|\[\/?INST\]|<start_of_turn>|<end_of_turn>/g;

/**
 * @param encode the model's tokenizer (no special tokens added beyond what the text spells)
 * @throws ModelError('model-load-failed') when the template cannot be split into pieces
 */
export function templatePieces(conv: ConvTemplate, encode: (text: string) => readonly number[]): ChatTemplatePieces {
  const sep = conv.seps[0];
  const at = conv.system_template.indexOf(SYSTEM_PLACEHOLDER);
  if (sep === undefined || at < 0 || !conv.roles.user || !conv.roles.assistant) {
    throw new ModelError('model-load-failed', "This model's conv_template has no separator, system placeholder or user/assistant roles; choose another model with `model`");
  }
  // Every turn, the system's included, must close with one separator (ChatML, Llama 3, Phi 3 do); others would be mis-rendered.
  if (conv.seps.some((s) => s !== sep) || conv.system_template.slice(at + SYSTEM_PLACEHOLDER.length) !== sep) {
    throw new ModelError('model-load-failed', "This model's conv_template closes turns in more than one way, which Mneme's prompt layout cannot follow; choose another model with `model`");
  }
  // WebLLM's default when role_content_sep is unset is ': ' (index.js 10488–10491).
  const contentSep = conv.role_content_sep ?? ': ';
  const ids = (text: string): number[] => (text === '' ? [] : [...encode(text)]);
  const controlTexts = [conv.system_template, conv.roles.user, conv.roles.assistant, ...conv.seps, ...conv.stop_str].flatMap((text) => text.match(CONTROL_TEXT) ?? []);
  return Object.freeze({
    prefix: [...(conv.system_prefix_token_ids ?? [])],
    turnStart: Object.freeze({
      system: ids(conv.system_template.slice(0, at)),
      user: ids(conv.roles.user + contentSep),
      assistant: ids(conv.roles.assistant + contentSep),
    }),
    turnEnd: ids(sep),
    stopTokens: [...conv.stop_token_ids],
    specialTexts: [...new Set([...conv.stop_str, ...controlTexts])],
  });
}
