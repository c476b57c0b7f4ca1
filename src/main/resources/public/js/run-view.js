// One run in the transcript: its model calls (with streamed text), tool calls, and any action it
// waits for. Fed by live events and by the run's journal (GET /api/runs/{id}/steps).
import { h, clear, pretty, duration, badge } from './dom.js';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

export class RunView {
  /**
   * @param renderAction (requiredAction, runView) => element shown while the run waits for a person
   */
  constructor(renderAction) {
    this.renderAction = renderAction;
    this.run = { id: null, status: 'queued', usage: null, error: null, required_action: null };
    this.items = new Map();
    this.currentModelCall = null;
    this.head = h('div', { class: 'run-head' });
    this.body = h('div', { class: 'run-steps' });
    this.actionSlot = h('div', { class: 'action-slot' });
    this.errorSlot = h('div', { class: 'run-error' });
    this.sourcesSlot = h('div', { class: 'sources-slot' });
    this.el = h('section', { class: 'run' }, this.body, this.sourcesSlot, this.actionSlot, this.errorSlot, this.head);
    this.renderHead();
  }

  get settled() {
    return ENDED.has(this.run.status) || this.run.status === 'requires_action';
  }

  /** Applies one event of the run's stream. */
  apply({ type, data }) {
    switch (type) {
      case 'run.created':
        this.run.id = data.run_id;
        this.run.conversation_id = data.conversation_id;
        this.run.agent_version = data.agent_version;
        break;
      case 'run.running':
        this.setStatus('running');
        this.showAction(null);
        break;
      case 'llm_call.started':
        this.currentModelCall = data.step;
        this.update(data.step, { kind: 'llm', index: data.step, status: 'running', text: '' });
        break;
      case 'message.delta': {
        const step = this.currentModelCall ?? -1;
        const item = this.items.get(step) || this.update(step, { kind: 'llm', index: step, status: 'running', text: '' });
        item.text = (item.text || '') + data.text;
        this.renderText(item);
        break;
      }
      case 'llm_call.completed':
        this.update(data.step, { status: 'completed', usage: data.usage });
        break;
      case 'tool_call.created':
        this.update(data.step, { kind: 'tool', index: data.step, status: 'pending', tool_call_id: data.tool_call_id,
          name: data.name, arguments: data.arguments });
        break;
      case 'tool_call.completed':
        this.update(data.step, { status: data.status, result: data.result ?? null, error: data.error ?? null });
        break;
      case 'run.requires_action':
        this.setStatus('requires_action');
        this.run.required_action = data.required_action;
        this.showAction(data.required_action);
        break;
      case 'run.completed':
        this.run.usage = data.usage;
        this.setStatus('completed');
        break;
      case 'run.failed':
        this.run.error = data.error;
        this.setStatus('failed');
        break;
      case 'run.cancelled':
        this.setStatus('cancelled');
        break;
      default:
        break;
    }
  }

  /** Takes the run as GET /api/runs/{id} shows it. */
  applyRun(run) {
    Object.assign(this.run, run);
    this.setStatus(run.status);
    this.showAction(run.status === 'requires_action' ? run.required_action : null);
  }

  /** Takes the journal: durations, tokens and final texts. */
  applySteps(steps) {
    for (const s of steps) {
      if (s.type === 'llm_call') {
        const text = s.response?.parsed?.content;
        // The journal says "started" for a model call in progress; the events say it is running.
        const patch = { kind: 'llm', index: s.index, status: s.status === 'started' ? 'running' : s.status, usage: s.usage, duration_ms: s.duration_ms,
          error: s.error, attempts: s.attempts };
        if (text) patch.text = text;
        this.update(s.index, patch);
      } else {
        this.update(s.index, { kind: 'tool', index: s.index, status: s.status, tool_call_id: s.tool_call_id, name: s.name,
          arguments: s.arguments, result: s.result, error: s.error, duration_ms: s.duration_ms,
          decision_reason: s.decision_reason, attempts: s.attempts });
      }
    }
  }

  setStatus(status) {
    this.run.status = status;
    if (status !== 'running' && status !== 'queued') {
      this.items.forEach(item => { if (item.kind === 'llm' && item.status === 'running' && ENDED.has(status)) item.status = status; });
      this.items.forEach(item => this.renderItem(item));
    }
    this.renderHead();
  }

  showAction(action) {
    clear(this.actionSlot, action ? this.renderAction(action, this) : null);
  }

  update(index, patch) {
    let item = this.items.get(index);
    if (!item) {
      item = { el: h('div', { class: 'step-item' }) };
      this.items.set(index, item);
      const later = [...this.items.entries()].filter(([i]) => i > index).sort(([a], [b]) => a - b)[0];
      if (later && later[1].el.parentNode === this.body) this.body.insertBefore(item.el, later[1].el);
      else this.body.append(item.el);
    }
    Object.assign(item, patch);
    this.renderItem(item);
    return item;
  }

  renderItem(item) {
    if (item.kind === 'llm') this.renderModelCall(item);
    else if (item.kind === 'tool') this.renderToolCall(item);
  }

  renderModelCall(item) {
    const usage = item.usage ? `${item.usage.prompt_tokens ?? '?'} → ${item.usage.completion_tokens ?? '?'} tokens` : null;
    item.bubble = item.text ? h('div', { class: `msg assistant${item.status === 'running' ? ' streaming' : ''}`, text: item.text }) : null;
    clear(item.el,
      h('div', { class: 'step llm', dataset: { step: item.index } },
        h('div', { class: 'meta' },
          h('span', {}, 'Model call'),
          h('span', { class: 'muted', text: `step ${item.index}` }),
          badge(item.status || 'running'),
          usage ? h('span', { class: 'tokens', text: usage }) : null,
          item.duration_ms != null ? h('span', { class: 'duration', text: duration(item.duration_ms) }) : null,
          item.attempts && item.attempts.length > 1 ? h('span', { text: `${item.attempts.length} attempts` }) : null),
        item.error ? h('div', { class: 'run-error', text: item.error }) : null),
      item.bubble);
  }

  renderText(item) {
    if (!item.bubble) {
      this.renderModelCall(item);
      return;
    }
    item.bubble.textContent = item.text;
  }

  renderToolCall(item) {
    clear(item.el,
      h('div', { class: 'step tool', dataset: { step: item.index, tool: item.name } },
        h('div', { class: 'meta' },
          h('span', {}, 'Tool'),
          h('span', { class: 'name', text: item.name }),
          badge(item.status || 'pending'),
          item.duration_ms != null ? h('span', { class: 'duration muted', text: duration(item.duration_ms) }) : null),
        h('div', { class: 'label', text: 'Arguments' }),
        h('pre', { class: 'arguments', text: pretty(item.arguments) }),
        item.result != null ? [h('div', { class: 'label', text: 'Result' }), h('pre', { class: 'result', text: pretty(item.result) })] : null,
        item.error != null ? [h('div', { class: 'label', text: 'Error' }), h('pre', { class: 'error', text: item.error })] : null,
        item.decision_reason ? h('div', { class: 'small muted', text: `Reason: ${item.decision_reason}` }) : null));
  }

  renderHead() {
    const r = this.run;
    clear(this.head,
      r.id ? h('span', {}, 'run ', h('code', { text: r.id.slice(-12), title: r.id })) : h('span', { text: 'run' }),
      badge(r.status),
      r.agent_version ? h('span', { text: `agent v${r.agent_version}` }) : null,
      r.usage && r.usage.total_tokens != null ? h('span', { text: `${r.usage.total_tokens} tokens` }) : null,
      r.id ? h('a', { class: 'inspect', href: `#/runs/${encodeURIComponent(r.id)}` }, 'Inspect') : null);
    clear(this.errorSlot, r.status === 'failed' && r.error
      ? h('div', { class: 'problem', role: 'alert' }, h('strong', { text: `Run failed (${r.error.code || 'error'}): ` }), r.error.message || '')
      : null);
  }
}
