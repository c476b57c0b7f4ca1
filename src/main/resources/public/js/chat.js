// Chat with an agent: runs streamed live, every step inline, approvals and client tool outputs.
import { ApiError } from './api.js';
import { h, clear, field, problemBox, showProblem, clearFieldErrors, pretty, when, busy } from './dom.js';
import { RunView } from './run-view.js';
import { showCitations } from './citations.js';

const enc = encodeURIComponent;

export async function chat(ctx, { agentId, conversationId }) {
  const { api, main, onLeave } = ctx;
  const conversation = conversationId ? await api.get(`/api/conversations/${enc(conversationId)}`) : null;
  agentId = agentId || conversation.agent_id;
  const agent = await api.get(`/api/agents/${enc(agentId)}`).catch(error => {
    if (error instanceof ApiError && error.status === 404 && conversation) return null; // deleted agent: history stays readable
    throw error;
  });
  document.title = `Chat · ${agent ? agent.name : 'deleted agent'} · Aryabhatta`;

  const state = { conversationId, active: null, controller: null };
  onLeave(() => state.controller?.abort());

  const transcript = h('div', { class: 'transcript', id: 'transcript', 'aria-live': 'polite' });
  const notice = h('div', { id: 'chat-errors' });
  const input = h('textarea', { id: 'chat-input', rows: 2, placeholder: agent ? `Message ${agent.name}…` : 'The agent was deleted' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'send', disabled: !agent }, 'Send');
  const cancel = h('button', { type: 'button', id: 'cancel-run', hidden: true }, 'Cancel run');
  const variableInputs = new Map();

  const scrollDown = () => window.scrollTo({ top: document.body.scrollHeight });
  const setActive = (runView) => {
    state.active = runView;
    const running = runView && !runView.settled;
    send.disabled = !agent || Boolean(runView);
    cancel.hidden = !runView;
    input.disabled = Boolean(running);
  };

  /** Streams a run's events from `after` on until it ends or needs a person, reattaching if the connection drops. */
  const follow = async (runView, startStream) => {
    setActive(runView);
    state.controller = new AbortController();
    let lastId = null;
    let refresh = null;
    const refreshSteps = () => {
      clearTimeout(refresh);
      refresh = setTimeout(async () => {
        if (!runView.run.id) return;
        try {
          runView.applySteps((await api.get(`/api/runs/${enc(runView.run.id)}/steps`)).data);
        } catch { /* the next refresh will do */ }
      }, 100);
    };
    const onEvent = (event) => {
      lastId = event.id ?? lastId;
      runView.apply(event);
      if (event.type === 'run.created' && !state.conversationId) {
        state.conversationId = event.data.conversation_id;
        history.replaceState(null, '', `#/conversations/${enc(state.conversationId)}`);
        showConversation();
      }
      if (/completed$|requires_action$|failed$|cancelled$/.test(event.type)) refreshSteps();
      scrollDown();
    };
    try {
      lastId = await startStream(onEvent, state.controller.signal);
      for (let attempt = 0; !runView.settled && runView.run.id && attempt < 20; attempt++) {
        lastId = await api.stream('GET', `/api/runs/${enc(runView.run.id)}/events?after=${lastId ?? 0}`, undefined,
          onEvent, state.controller.signal) ?? lastId;
      }
    } catch (error) {
      if (error.name === 'AbortError') return;
      throw error;
    } finally {
      runView.lastEventId = lastId;
      // A run waiting for a person keeps the composer closed (one active run per conversation).
      setActive(runView.run.status === 'requires_action' ? runView : null);
    }
  };

  /** The panel for a run that waits: approve or reject tool calls, or give client tool outputs. */
  const renderAction = (action, runView) => {
    const decisions = new Map();
    const slot = h('div');
    const submit = async (path, body, button) => {
      clear(slot);
      await busy(button, async () => {
        try {
          await api.post(`/api/runs/${enc(runView.run.id)}/${path}`, body);
          runView.showAction(null);
          runView.setStatus('queued');
          const after = runView.lastEventId ?? await lastEventId(api, runView.run.id);
          await follow(runView, (onEvent, signal) =>
            api.stream('GET', `/api/runs/${enc(runView.run.id)}/events?after=${after}`, undefined, onEvent, signal));
        } catch (error) {
          if (error.name !== 'AbortError') clear(slot, problemBox(error));
        }
      });
    };
    const calls = action.tool_calls || [];
    const decide = (call, approve, reasonInput, button) => {
      decisions.set(call.id, { tool_call_id: call.id, approve, reason: reasonInput.value || undefined });
      if (decisions.size === calls.length) submit('approvals', { decisions: [...decisions.values()] }, button);
      else button.closest('.call').classList.add('decided');
    };
    const callCard = (call) => {
      const reason = h('input', { type: 'text', placeholder: 'Reason (optional, told to the model)', class: 'reason' });
      const output = h('textarea', { rows: 2, class: 'code output', placeholder: 'The tool’s output (text or JSON)' });
      output.dataset.callId = call.id;
      const approveButton = h('button', { type: 'button', class: 'ok approve', onClick: (e) => decide(call, true, reason, e.target) },
        action.type === 'resolve_unknown_outcome' ? 'Execute it again' : 'Approve');
      const rejectButton = h('button', { type: 'button', class: 'danger reject', onClick: (e) => decide(call, false, reason, e.target) },
        action.type === 'resolve_unknown_outcome' ? 'Don’t execute it again' : 'Reject');
      return h('div', { class: 'call stack', dataset: { toolCall: call.id } },
        h('div', {}, h('code', { class: 'name', text: call.name })),
        h('pre', { text: pretty(call.arguments) }),
        action.type === 'submit_tool_outputs' ? output
          : [reason, h('div', { class: 'row' }, approveButton, rejectButton)],
        action.type === 'resolve_unknown_outcome'
          ? h('details', {}, h('summary', {}, 'Or give its outcome'), output) : null);
    };
    const outputsButton = h('button', {
      type: 'button', class: 'primary', id: 'submit-outputs',
      onClick: (e) => {
        const outputs = [...slot.parentElement.querySelectorAll('textarea.output')].filter(t => t.value.trim() !== '')
          .map(t => ({ tool_call_id: t.dataset.callId, output: parseMaybeJson(t.value) }));
        submit('tool_outputs', { tool_outputs: outputs }, e.target);
      },
    }, 'Submit outputs');
    const titles = {
      approve_tool_calls: 'The agent wants to call a tool. Approve?',
      submit_tool_outputs: 'The agent called a client tool: give its output.',
      resolve_unknown_outcome: 'A tool call’s outcome is unknown: it may have taken effect. Decide what happened (Inspect the run for what each choice does).',
    };
    return h('div', { class: 'action', id: 'required-action', role: 'group' },
      h('strong', { text: titles[action.type] || action.type }),
      calls.map(callCard),
      action.type !== 'approve_tool_calls' ? h('div', { class: 'row' }, outputsButton) : null,
      slot);
  };

  const startRun = async (text) => {
    clear(notice);
    clearFieldErrors(variablesBox);
    const variables = Object.fromEntries([...variableInputs].map(([name, el]) => [name, el.value]));
    // An empty variable would leave a hole in the system prompt ("The user is ."), and the
    // conversation keeps its variables: refused before anything is sent, as the API refuses it.
    const empty = state.conversationId ? [] : Object.keys(variables).filter(name => !variables[name].trim());
    if (empty.length) {
      showProblem(notice, {
        title: 'Fill in the variables',
        detail: 'The agent\'s system prompt uses them, and they are fixed once the conversation starts.',
        errors: empty.map(name => ({ field: `variables.${name}`, message: 'must not be empty' })),
      }, variablesBox);
      input.value = text;
      variableInputs.get(empty[0]).focus();
      return;
    }
    const userBubble = h('div', { class: 'msg user', text });
    const runView = new RunView(renderAction);
    transcript.append(userBubble, runView.el);
    scrollDown();
    const path = state.conversationId
      ? `/api/conversations/${enc(state.conversationId)}/runs?stream=true`
      : `/api/agents/${enc(agentId)}/runs?stream=true`;
    const body = state.conversationId ? { input: text } : { input: text, variables };
    try {
      await follow(runView, (onEvent, signal) => api.stream('POST', path, body, onEvent, signal));
      showCitations(api, runView.run, runView.sourcesSlot);
    } catch (error) {
      if (!runView.run.id) {
        userBubble.remove();
        runView.el.remove();
        input.value = text;
      }
      showProblem(notice, error, variablesBox);
      setActive(null);
    }
  };

  const form = h('form', {
    class: 'composer',
    onSubmit: (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text || state.active) return;
      input.value = '';
      startRun(text);
    },
  }, input, send, cancel);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  cancel.addEventListener('click', () => busy(cancel, async () => {
    const run = state.active?.run;
    if (!run?.id) return;
    try {
      const after = await api.post(`/api/runs/${enc(run.id)}/cancel`);
      state.active.applyRun(after);
      if (after.status !== 'running') setActive(null);
    } catch (error) {
      notice.append(problemBox(error));
    }
  }));

  // The side panel: the agent, the conversation and its variables.
  const conversationInfo = h('div', { id: 'conversation-info' });
  const showConversation = () => {
    clear(conversationInfo, state.conversationId
      ? h('dl', { class: 'kv' }, h('dt', {}, 'Conversation'), h('dd', {}, h('code', { text: state.conversationId })),
        conversation ? [h('dt', {}, 'Started'), h('dd', { text: when(conversation.created_at) })] : null)
      : h('p', { class: 'small muted', text: 'A new conversation starts with your first message.' }));
    variablesBox.querySelectorAll('input').forEach(el => { el.disabled = Boolean(state.conversationId); });
  };
  const variablesBox = h('div', { class: 'stack', id: 'chat-variables' });
  const names = agent?.variables ?? [];
  const given = conversation?.variables ?? {};
  if (names.length || Object.keys(given).length) {
    variablesBox.append(h('h2', {}, 'Variables'));
    for (const name of names.length ? names : Object.keys(given)) {
      const el = h('input', { type: 'text', id: `var-${name}`, value: given[name] ?? '' });
      variableInputs.set(name, el);
      variablesBox.append(field(`{{${name}}}`, el, { field: `variables.${name}` }));
    }
  }
  const pastList = h('ul', { class: 'list small', id: 'agent-conversations' });
  const side = h('aside', { class: 'panel stack side' },
    agent ? h('div', { class: 'stack' },
      h('div', { class: 'row spread' }, h('h2', {}, h('code', { text: agent.name })), h('span', { class: 'badge', text: `v${agent.version}` })),
      h('dl', { class: 'kv agent-facts' },
        h('dt', {}, 'Model'), h('dd', {}, h('code', { text: `${agent.model.provider} / ${agent.model.name}` })),
        h('dt', {}, 'Tools'), h('dd', { text: agent.tools.join(', ') || 'none' }),
        h('dt', {}, 'Approval'), h('dd', { text: agent.tool_approval }),
        h('dt', {}, 'Max steps'), h('dd', { text: String(agent.max_steps) })),
      h('div', { class: 'row' },
        h('a', { class: 'button', href: `#/agents/${enc(agent.id)}` }, 'Edit agent'),
        h('a', { class: 'button', href: `#/chat/${enc(agent.id)}`, id: 'new-conversation',
          onClick: (e) => { if (location.hash === `#/chat/${enc(agent.id)}`) { e.preventDefault(); window.dispatchEvent(new HashChangeEvent('hashchange')); } } }, 'New conversation')))
      : h('p', { class: 'muted', text: 'This conversation’s agent was deleted; its history stays readable.' }),
    conversationInfo,
    variablesBox,
    agent ? h('details', {}, h('summary', {}, 'Recent conversations with this agent'), pastList) : null);

  main.append(
    h('div', { class: 'chat' },
      h('div', { class: 'stack' }, transcript, notice, form),
      side));
  showConversation();
  if (agent) {
    api.get(`/api/conversations?agent_id=${enc(agent.id)}&limit=10`).then(page => clear(pastList,
      page.data.length ? page.data.map(c => h('li', {}, h('a', { href: `#/conversations/${enc(c.id)}`, text: when(c.created_at) }),
        c.id === state.conversationId ? ' (this one)' : null)) : h('li', { class: 'muted', text: 'none yet' }))).catch(() => {});
  }

  if (conversation) await loadHistory(api, conversation, transcript, renderAction, follow);
  else if (names.length) variableInputs.get(names[0]).focus();
  if (!state.active) input.focus();
  scrollDown();
}

/** Renders the conversation's past runs from their journals; follows a run still going. */
async function loadHistory(api, conversation, transcript, renderAction, follow) {
  const [messages, runs] = await Promise.all([
    api.all(`/api/conversations/${enc(conversation.id)}/messages`, 5000),
    api.all(`/api/conversations/${enc(conversation.id)}/runs`),
  ]);
  let going = null;
  for (const run of runs) {
    messages.filter(m => m.run_id === run.id && m.role === 'user')
      .forEach(m => transcript.append(h('div', { class: 'msg user', text: m.content })));
    const view = new RunView(renderAction);
    view.applyRun(run);
    view.applySteps((await api.get(`/api/runs/${enc(run.id)}/steps`)).data);
    transcript.append(view.el);
    showCitations(api, run, view.sourcesSlot);
    if (run.status === 'queued' || run.status === 'running') going = view;
  }
  if (going) {
    const after = await lastEventId(api, going.run.id);
    follow(going, (onEvent, signal) =>
      api.stream('GET', `/api/runs/${enc(going.run.id)}/events?after=${after}`, undefined, onEvent, signal));
  }
}

/** The id of a run's latest event, to stream what comes after it. */
async function lastEventId(api, runId) {
  let after = 0;
  for (;;) {
    const page = await api.get(`/api/runs/${enc(runId)}/events?format=json&limit=200&after=${after}`);
    if (page.data.length) after = page.data[page.data.length - 1].id;
    if (!page.next_cursor) return after;
  }
}

function parseMaybeJson(text) {
  try { return JSON.parse(text); } catch { return text; }
}
