// What a waiting run asks of a person, with the consequence of each answer spelled out: approve or
// reject tool calls, give client tools' outputs, or settle calls whose outcome is unknown.
import { h, clear, pretty, problemBox, busy } from './dom.js';

const enc = encodeURIComponent;

/** The API takes one request for all the waiting calls: decisions (approvals) or results (tool_outputs). */
const APPROVALS = 'approvals';
const OUTPUTS = 'tool_outputs';

const TITLES = {
  approve_tool_calls: 'The agent wants to call a tool. Approve?',
  submit_tool_outputs: 'The agent called a client tool: give its output.',
  resolve_unknown_outcome: 'A tool call’s outcome is unknown. Decide what happened.',
  child_requires_action: 'A child run waits for you: answer on it.',
};

/**
 * The panel for a run in requires_action. onAnswered(run) is called with the run the API answers
 * once the run can go on; a refused answer stays on the panel as a problem box.
 */
export function actionPanel({ api, run, steps, onAnswered }) {
  const action = run.required_action;
  if (action.type === 'child_requires_action') return childActionPanel(action);
  const calls = action.tool_calls || [];
  const slot = h('div', { class: 'action-errors' });
  const answers = new Map();

  const send = async (kind, button) => {
    clear(slot);
    const body = kind === APPROVALS
      ? { decisions: [...answers.values()].map(a => a.body) }
      : { tool_outputs: [...answers.values()].map(a => a.body) };
    await busy(button, async () => {
      try {
        onAnswered(await api.post(`/api/runs/${enc(run.id)}/${kind}`, body));
      } catch (error) {
        answers.clear();
        panel.querySelectorAll('.call.decided').forEach(el => el.classList.remove('decided'));
        slot.append(problemBox(error));
      }
    });
  };

  /** Records one call's answer; sends them all once every waiting call has one. */
  const answer = (call, kind, body, button) => {
    clear(slot);
    answers.set(call.id, { kind, body });
    button.closest('.call').classList.add('decided');
    if (answers.size < calls.length) return;
    const kinds = new Set([...answers.values()].map(a => a.kind));
    if (kinds.size > 1) {
      answers.clear();
      panel.querySelectorAll('.call.decided').forEach(el => el.classList.remove('decided'));
      slot.append(problemBox({ title: 'Choose one kind of answer', detail: 'The API settles all waiting calls in one request: either a decision for each (execute again, or not) or a result for each.' }));
      return;
    }
    send(kind, button);
  };

  const step = (call) => steps.find(s => s.tool_call_id === call.id) || {};
  const cards = {
    resolve_unknown_outcome: (call) => unknownOutcomeCard(call, step(call), answer),
    approve_tool_calls: (call) => approvalCard(call, answer),
    submit_tool_outputs: (call) => outputCard(call),
  };
  const card = cards[action.type] || approvalCard;
  const panel = h('section', { class: 'action', id: 'required-action', role: 'group', 'aria-label': 'The run waits for you' },
    h('h2', { text: TITLES[action.type] || action.type }),
    action.type === 'resolve_unknown_outcome'
      ? h('p', { class: 'small', text: 'The call was sent, or may have been, but no usable answer came back: it may have taken effect. The run waits until you choose one of these for each call.' })
      : null,
    calls.map(call => card(call, answer)),
    action.type === 'submit_tool_outputs' ? h('div', { class: 'row' }, h('button', {
      type: 'button', class: 'primary', id: 'submit-outputs',
      onClick: (e) => {
        answers.clear();
        panel.querySelectorAll('textarea.output').forEach(t =>
          answers.set(t.dataset.callId, { kind: OUTPUTS, body: { tool_call_id: t.dataset.callId, output: t.value } }));
        send(OUTPUTS, e.target);
      },
    }, 'Submit outputs')) : null,
    slot);
  return panel;
}

/** A parent waits for a person only through its children: the answer is given on each child run. */
function childActionPanel(action) {
  const callOf = (child) => (action.tool_calls || []).find(c => c.id === child.tool_call_id) || {};
  return h('section', { class: 'action', id: 'required-action', role: 'group', 'aria-label': 'A child run waits for you' },
    h('h2', { text: TITLES.child_requires_action }),
    h('p', { class: 'small', text: 'This run goes on once its child runs have ended; what each one asks is answered on its own page.' }),
    (action.children || []).map(child => h('div', { class: 'call row', dataset: { childRun: child.run_id } },
      h('code', { class: 'name', text: callOf(child).name || 'agent' }),
      h('span', { class: 'small', text: TITLES[child.required_action?.type] || child.required_action?.type || '' }),
      h('a', { class: 'child-action', href: `#/runs/${enc(child.run_id)}` }, 'Open the child run'))));
}

function callHead(call, step) {
  return [
    h('div', { class: 'row' }, h('code', { class: 'name', text: call.name }),
      step.idempotency_key ? h('span', { class: 'small muted' }, 'idempotency key ', h('code', { text: step.idempotency_key })) : null),
    h('pre', { class: 'arguments', text: pretty(call.arguments) }),
    step.error ? h('div', { class: 'small run-error', text: step.error }) : null,
  ];
}

/** The three ways to settle a call of unknown outcome, each with what it does. */
function unknownOutcomeCard(call, step, answer) {
  const key = step.idempotency_key;
  const result = h('textarea', { rows: 2, class: 'code settle-output', id: `settle-${call.id}`, placeholder: 'What the call did, e.g. {"charged": true}' });
  const reason = h('input', { type: 'text', class: 'reason', id: `reason-${call.id}`, placeholder: 'optional, told to the model' });
  const choice = (id, title, consequence, controls, button) => h('div', { class: 'choice', dataset: { choice: id } },
    h('h3', { text: title }), h('p', { class: 'consequence small', text: consequence }), controls, h('div', { class: 'row' }, button));
  return h('div', { class: 'call stack', dataset: { toolCall: call.id } },
    callHead(call, step),
    h('div', { class: 'choices' },
      choice('again', 'Execute it again',
        `The tool runs again${key ? `, with the same Idempotency-Key (${key})` : ''}. If the first call took effect and the service behind ${call.name} does not honour that key, its effect may happen twice (a second charge, a second message). The model then reads the new result.`,
        null,
        h('button', { type: 'button', class: 'again', onClick: (e) => answer(call, APPROVALS, { tool_call_id: call.id, approve: true }, e.target) }, 'Execute it again')),
      choice('settle', 'Settle it with its result',
        'The call is not executed again. Its step is recorded as completed with the result you give, and the model reads that result as the tool’s answer.',
        [h('label', { for: result.id }, 'Its result'), result],
        h('button', { type: 'button', class: 'ok settle', onClick: (e) => settle(call, result, answer, e.target) }, 'Settle with this result')),
      choice('reject', 'Don’t execute it again',
        'The call is not executed again and stays recorded as “unknown outcome”. The model is told: “Outcome unknown: this call was started but its result is not known, so it may have been executed (the user chose not to execute it again: your reason).”',
        [h('label', { for: reason.id }, 'Reason'), reason],
        h('button', { type: 'button', class: 'danger not-again', onClick: (e) => answer(call, APPROVALS, { tool_call_id: call.id, approve: false, reason: reason.value || undefined }, e.target) }, 'Don’t execute it again'))));
}

function approvalCard(call, answer) {
  const reason = h('input', { type: 'text', class: 'reason', 'aria-label': `Reason for ${call.name}`, placeholder: 'Reason (optional, told to the model)' });
  return h('div', { class: 'call stack', dataset: { toolCall: call.id } },
    callHead(call, {}),
    reason,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'ok approve', onClick: (e) => answer(call, APPROVALS, { tool_call_id: call.id, approve: true, reason: reason.value || undefined }, e.target) }, 'Approve'),
      h('button', { type: 'button', class: 'danger reject', onClick: (e) => answer(call, APPROVALS, { tool_call_id: call.id, approve: false, reason: reason.value || undefined }, e.target) }, 'Reject')),
    h('p', { class: 'consequence small', text: 'Approve: the tool is executed and the model reads its result. Reject: it is not executed, and the model is told the user rejected it (with your reason).' }));
}

function outputCard(call) {
  const output = h('textarea', { rows: 2, class: 'code output', id: `output-${call.id}`, placeholder: 'The tool’s output (text or JSON)' });
  output.dataset.callId = call.id;
  return h('div', { class: 'call stack', dataset: { toolCall: call.id } },
    callHead(call, {}),
    h('label', { for: output.id }, `Output of ${call.name}`), output);
}

/** A result is sent as the text typed, so the model reads exactly that (no number is rounded on the way). */
function settle(call, result, answer, button) {
  if (!result.value.trim()) {
    result.classList.add('invalid');
    result.focus();
    return;
  }
  result.classList.remove('invalid');
  answer(call, OUTPUTS, { tool_call_id: call.id, output: result.value }, button);
}
