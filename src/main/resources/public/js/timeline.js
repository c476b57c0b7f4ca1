// The journal of a run as cards, one per step: model calls with the exact request and raw response,
// tool calls with arguments, result, attempts and idempotency key.
import { h, pretty, reindent, duration, badge, when } from './dom.js';
import { answerOf, systemPromptOf } from './run-data.js';

const enc = encodeURIComponent;

/**
 * Keeps one card per step and draws a card again only when its step changed, so that a poll does
 * not close what the reader opened.
 *
 * @param cardOptions (step) => options for stepCard (fork, differs …)
 */
export class StepCards {
  constructor(cardOptions) {
    this.cardOptions = cardOptions;
    this.cards = new Map();
  }

  /** The card of each step, in journal order. */
  update(steps) {
    return steps.map(step => {
      const options = this.cardOptions(step);
      const signature = JSON.stringify([step, options.marks, options.differs, options.showSystemPrompt, Boolean(options.fork), options.forkHint]);
      const known = this.cards.get(step.index);
      if (known && known.signature === signature) return known.el;
      const el = stepCard(step, options);
      this.cards.set(step.index, { signature, el });
      return el;
    });
  }
}

/**
 * A step's card. options: fork (step) => void offers "Fork from here", forkHint says why not; marks
 * are labels, differs highlights the card, showSystemPrompt shows the system prompt the call sent.
 */
export function stepCard(step, options = {}) {
  return step.type === 'llm_call' ? modelCallCard(step, options) : toolCallCard(step, options);
}

function modelCallCard(step, options) {
  const answer = answerOf(step);
  return h('article', { class: `step-card llm${options.differs ? ' differs' : ''}`, dataset: { step: step.index }, 'aria-label': `Step ${step.index}: model call` },
    cardHead(step, 'Model call', [
      tokens(step.usage),
      step.attempts && step.attempts.length ? h('span', { class: 'attempts-count', text: plural(step.attempts.length, 'attempt') }) : null,
    ], options),
    answer ? h('div', { class: 'answer', text: answer }) : null,
    options.showSystemPrompt
      ? h('div', { class: 'system-prompt' }, h('div', { class: 'label', text: 'System prompt sent' }), h('pre', { text: systemPromptOf(step) }))
      : null,
    step.error ? h('div', { class: 'run-error', text: step.error }) : null,
    step.raw.request ? jsonDetails('Request', 'request', step.raw.request) : null,
    step.raw.response ? jsonDetails('Raw response', 'response', step.raw.response) : null,
    attemptList(step.attempts),
    forkControl(step, options));
}

function toolCallCard(step, options) {
  return h('article', { class: `step-card tool${options.differs ? ' differs' : ''}`, dataset: { step: step.index, tool: step.name }, 'aria-label': `Step ${step.index}: tool call ${step.name}` },
    cardHead(step, h('span', {}, 'Tool ', h('code', { class: 'name', text: step.name })), [], options),
    h('div', { class: 'label', text: 'Arguments' }),
    h('pre', { class: 'arguments', text: step.raw.arguments != null ? pretty(step.raw.arguments) : '' }),
    step.result != null ? [h('div', { class: 'label', text: 'Result' }), h('pre', { class: 'result', text: pretty(step.result) })] : null,
    step.error != null ? [h('div', { class: 'label', text: 'Error' }), h('pre', { class: 'error', text: step.error })] : null,
    h('dl', { class: 'facts' },
      fact('Idempotency key', step.idempotency_key ? h('code', { class: 'idempotency-key', text: step.idempotency_key }) : 'none'),
      fact('Tool call id', step.tool_call_id ? h('code', { text: step.tool_call_id }) : null),
      fact('Executed as', step.executed_as ? h('code', { class: 'executed-as', text: executedAs(step.executed_as) }) : 'not executed'),
      step.decision_reason ? fact('Decision reason', step.decision_reason) : null),
    attemptList(step.attempts));
}

function cardHead(step, title, extras, options) {
  return h('header', { class: 'meta' },
    h('span', { class: 'step-index', text: `#${step.index}` }),
    h('strong', {}, title),
    badge(step.status),
    step.duration_ms != null ? h('span', { class: 'duration', text: duration(step.duration_ms) }) : null,
    extras,
    step.started_at ? h('time', { class: 'muted small', datetime: step.started_at, text: when(step.started_at) }) : null,
    step.copied_from_run_id
      ? h('a', { class: 'copied', href: `#/runs/${enc(step.copied_from_run_id)}`, title: step.copied_from_run_id },
        `copied from run …${step.copied_from_run_id.slice(-8)}`)
      : null,
    (options.marks || []).map(mark => h('span', { class: 'badge mark', text: mark })));
}

function tokens(usage) {
  if (!usage) return null;
  return h('span', { class: 'tokens', text: `${usage.prompt_tokens ?? '?'} → ${usage.completion_tokens ?? '?'} tokens` });
}

/** Collapsed JSON, laid out from its own characters (numbers keep every digit). */
function jsonDetails(label, kind, rawText) {
  return h('details', { class: `json ${kind}` },
    h('summary', {}, label),
    h('pre', { class: kind, text: reindent(rawText) }));
}

function attemptList(attempts) {
  if (!attempts || attempts.length === 0) return null;
  return h('details', { class: 'attempts' },
    h('summary', {}, `Attempts (${attempts.length})`),
    h('ol', { class: 'attempt-list small' }, attempts.map(a => h('li', {},
      a.status_code != null ? `HTTP ${a.status_code}` : 'no response',
      a.duration_ms != null ? ` · ${duration(a.duration_ms)}` : '',
      a.error ? h('span', { class: 'run-error', text: ` · ${a.error}` }) : ' · ok'))));
}

function forkControl(step, options) {
  if (options.fork) {
    return h('div', { class: 'row fork-row' },
      h('button', { type: 'button', class: 'fork', onClick: () => options.fork(step) }, 'Fork from here'));
  }
  return options.forkHint ? h('div', { class: 'hint', text: options.forkHint }) : null;
}

function fact(term, value) {
  if (value === null || value === undefined) return null;
  return [h('dt', { text: term }), h('dd', {}, value)];
}

function executedAs(snapshot) {
  const parts = [snapshot.kind, snapshot.idempotent ? 'idempotent' : 'not idempotent'];
  if (snapshot.method) parts.push(`${snapshot.method} ${snapshot.url}`);
  return parts.join(' · ');
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
