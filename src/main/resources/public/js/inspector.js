// The run inspector (#/runs/{id}): a run's journal as a timeline, kept fresh while the run is going,
// what it waits for, and "fork from here" on each model call. And the side-by-side view of a run
// and its fork (#/compare/{original}/{fork}).
import { h, clear, badge, when, duration, problemBox } from './dom.js';
import { loadRun, origin, poll, isActive, isEnded, changesByItself, childRuns, systemPromptOf, answerOf } from './run-data.js';
import { StepCards } from './timeline.js';
import { actionPanel } from './run-actions.js';
import { forkForm } from './fork-form.js';
import { showCitations } from './citations.js';

const enc = encodeURIComponent;

export async function runInspector(ctx, id) {
  const { api, main, onLeave, go } = ctx;
  const [first, from] = await Promise.all([loadRun(api, id), origin(api, id)]);
  const agent = await agentOf(api, first.run.agent_id);
  document.title = `Run …${id.slice(-8)} · Aryabhatta`;

  const summary = h('section', { class: 'panel run-summary', id: 'run-summary' });
  const sources = h('div', { id: 'run-sources' });
  let sourcesShown = false;
  const actionSlot = h('div', { id: 'run-action' });
  const childrenSlot = h('div', { id: 'run-children' });
  const pollProblem = h('div', { id: 'run-poll-error' });
  const timeline = h('div', { class: 'timeline', id: 'timeline' });
  const state = { data: first, actionSignature: undefined, forkAt: null, stopPolling: () => {} };

  const forkOptions = (step) => {
    if (step.type !== 'llm_call') return {};
    if (!isEnded(state.data.run)) return { forkHint: 'A run can be forked once it has ended.' };
    return { fork: (s) => openFork(s) };
  };
  const cards = new StepCards(forkOptions);

  const openFork = (step) => {
    const form = forkForm({
      api, run: state.data.run, step,
      onForked: (fork) => go(`#/compare/${enc(state.data.run.id)}/${enc(fork.id)}`),
      onCancel: () => { state.forkAt = null; show(state.data); },
    });
    state.forkAt = { index: step.index, form };
    show(state.data);
    form.scrollIntoView({ block: 'nearest' });
  };

  const show = (data) => {
    state.data = data;
    clear(summary, runSummary(data.run, agent, from));
    if (!sourcesShown && data.run.status === 'completed') {
      sourcesShown = true;
      showCitations(api, data.run, sources);
    }
    showAction(data);
    showChildren();
    const items = cards.update(data.steps).flatMap((card, i) =>
      state.forkAt && data.steps[i].index === state.forkAt.index ? [card, state.forkAt.form] : [card]);
    clear(timeline, items.length ? items : h('p', { class: 'muted', text: 'No steps yet.' }));
  };

  const showAction = (data) => {
    const waiting = data.run.status === 'requires_action' && data.run.required_action;
    // Drawn again only when what it waits for changes, so that typed text survives a refresh.
    const signature = waiting ? JSON.stringify(data.run.required_action) : null;
    if (signature === state.actionSignature) return;
    state.actionSignature = signature;
    clear(actionSlot, waiting ? actionPanel({ api, run: data.run, steps: data.steps, onAnswered: follow }) : null);
  };

  // Read again with each refresh of the run: a child's status changes while its parent waits.
  const showChildren = async () => {
    try {
      const children = await childRuns(api, id);
      const signature = JSON.stringify(children.map(c => [c.id, c.status]));
      if (signature === state.childrenSignature) return;
      state.childrenSignature = signature;
      clear(childrenSlot, children.length ? childList(children) : null);
    } catch (error) {
      clear(childrenSlot, problemBox(error));
    }
  };

  const follow = (run) => {
    state.actionSignature = undefined;
    show({ ...state.data, run });
    watch();
  };

  const watch = () => {
    state.stopPolling();
    state.stopPolling = poll(() => loadRun(api, id), show, (data) => changesByItself(data.run),
      (error) => clear(pollProblem, error ? problemBox(error) : null));
  };
  onLeave(() => state.stopPolling());

  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, 'Run ', h('code', { text: `…${id.slice(-12)}`, title: id })),
      h('a', { href: `#/conversations/${enc(first.run.conversation_id)}` }, '← Its conversation')),
    summary, sources, actionSlot, childrenSlot, pollProblem,
    h('h2', { class: 'journal-title', text: 'Journal' }),
    timeline);
  show(first);
  if (changesByItself(first.run)) watch();
}

/** Two runs side by side, steps aligned by index, the fork point marked. */
export async function runComparison(ctx, leftId, rightId) {
  const { api, main, onLeave } = ctx;
  const sides = await Promise.all([leftId, rightId].map(async (id) => {
    const [data, from] = await Promise.all([loadRun(api, id), origin(api, id)]);
    const side = { id, data, from, marks: new Map(), stop: () => {} };
    side.cards = new StepCards((step) => {
      const marks = side.marks.get(step.index) || [];
      return { marks, differs: marks.length > 0, showSystemPrompt: marks.includes('other system prompt') };
    });
    return side;
  }));
  const agent = await agentOf(api, sides[0].data.run.agent_id);
  document.title = 'Compare runs · Aryabhatta';
  const forkStep = forkPoint(sides);
  const heads = sides.map(() => h('div', { class: 'compare-head panel' }));
  const grid = h('div', { class: 'compare-grid', id: 'compare' });
  const problems = h('div');

  const show = () => {
    sides.forEach((side, i) => clear(heads[i],
      h('div', { class: 'compare-role', text: i === 0 ? 'Original' : 'Fork' }),
      runSummary(side.data.run, agent, side.from, { compact: true })));
    clear(grid, heads[0], heads[1], alignedRows(sides, forkStep));
  };

  sides.forEach(side => {
    if (!isActive(side.data.run)) return;
    side.stop = poll(() => loadRun(api, side.id), (data) => { side.data = data; show(); }, (data) => isActive(data.run),
      (error) => clear(problems, error ? problemBox(error) : null));
    onLeave(() => side.stop());
  });

  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, 'Run and fork, side by side'),
      h('span', { class: 'row' },
        h('a', { href: `#/runs/${enc(leftId)}` }, 'Inspect the original'),
        h('a', { href: `#/runs/${enc(rightId)}` }, 'Inspect the fork'))),
    forkStep != null
      ? h('p', { class: 'small muted', text: `The fork reuses the original's steps before step ${forkStep} and asks the model again from step ${forkStep}. Rows where the two differ are marked.` })
      : null,
    problems,
    grid);
  show();
}

/** The step the right run was forked from the left at, or null when it is not its fork. */
function forkPoint(sides) {
  const [left, right] = sides;
  if (right.from.forked_from_run_id === left.id) return right.from.from_step;
  if (left.from.forked_from_run_id === right.id) return left.from.from_step;
  return null;
}

function alignedRows(sides, forkStep) {
  const byIndex = sides.map(side => new Map(side.data.steps.map(s => [s.index, s])));
  const indexes = [...new Set(sides.flatMap(side => side.data.steps.map(s => s.index)))].sort((a, b) => a - b);
  const rows = [];
  for (const index of indexes) {
    const [left, right] = byIndex.map(m => m.get(index));
    if (index === forkStep) {
      rows.push(h('div', { class: 'fork-point', id: 'fork-point' }, `Fork point · step ${index}: from here the fork asked the model again`));
    }
    const marks = rowMarks(left, right);
    [left, right].forEach((step, i) => {
      sides[i].marks.set(index, marks);
      const cell = h('div', { class: `compare-cell ${i === 0 ? 'left' : 'right'}`, dataset: { step: index, side: i === 0 ? 'original' : 'fork' } },
        step
          ? sides[i].cards.update([step])
          : h('div', { class: 'no-step muted small', text: `no step ${index}` }));
      rows.push(cell);
    });
  }
  return rows;
}

/** How a row's two steps differ; nothing to mark where one side has no step. */
function rowMarks(left, right) {
  if (!left || !right || sameStep(left, right)) return [];
  const marks = ['differs'];
  if (left.type === 'llm_call' && right.type === 'llm_call' && systemPromptOf(left) !== systemPromptOf(right)) marks.push('other system prompt');
  return marks;
}

/** The same model answer or tool outcome on both sides. */
function sameStep(a, b) {
  if (a.type !== b.type) return false;
  if (a.type === 'llm_call') return answerOf(a) === answerOf(b) && systemPromptOf(a) === systemPromptOf(b);
  return a.name === b.name && a.raw.arguments === b.raw.arguments && a.result === b.result && a.error === b.error;
}

function runSummary(run, agent, from, { compact = false } = {}) {
  const usage = run.usage;
  return [
    h('div', { class: 'row' },
      badge(run.status),
      h('a', { class: 'agent-link', href: `#/agents/${enc(run.agent_id)}` }, agent ? agent.name : 'deleted agent', ` v${run.agent_version}`),
      compact ? h('a', { href: `#/runs/${enc(run.id)}`, title: run.id }, h('code', { text: `…${run.id.slice(-8)}` })) : null),
    h('dl', { class: 'kv run-facts' },
      fact('Conversation', h('a', { href: `#/conversations/${enc(run.conversation_id)}`, class: 'conversation-link' }, h('code', { text: `…${run.conversation_id.slice(-12)}`, title: run.conversation_id }))),
      fact('Model calls', String(run.steps_count)),
      fact('Tokens', usage ? `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens}` : '—'),
      fact('Started', run.started_at ? when(run.started_at) : 'not yet'),
      run.ended_at ? fact('Took', duration(Date.parse(run.ended_at) - Date.parse(run.started_at || run.created_at))) : null,
      run.parent_run_id ? fact('Called by', h('span', { id: 'parent-run' },
        h('a', { href: `#/runs/${enc(run.parent_run_id)}`, title: run.parent_run_id }, h('code', { text: `…${run.parent_run_id.slice(-12)}` })),
        ` at step ${run.parent_step} · depth ${run.depth}`)) : null,
      from.forked_from_run_id ? fact('Forked from', h('span', { id: 'forked-from' },
        h('a', { href: `#/runs/${enc(from.forked_from_run_id)}` }, h('code', { text: `…${from.forked_from_run_id.slice(-12)}` })),
        ` at step ${from.from_step} · `,
        h('a', { href: `#/compare/${enc(from.forked_from_run_id)}/${enc(run.id)}` }, 'compare'))) : null),
    run.output ? h('div', { class: 'stack output-box' }, h('div', { class: 'label', text: 'Output' }), h('div', { class: 'run-output', text: run.output })) : null,
    run.status === 'failed' && run.error
      ? h('div', { class: 'problem', role: 'alert' }, h('strong', { text: `Run failed (${run.error.code || 'error'}): ` }), run.error.message || '')
      : null,
  ];
}

/** The runs a run's calls of agents started, each linked to its inspector. */
function childList(children) {
  return h('section', { class: 'panel', id: 'child-runs' },
    h('h2', { text: 'Child runs' }),
    h('ul', { class: 'child-runs' }, children.map(child => h('li', { class: 'row', dataset: { step: child.parent_step } },
      badge(child.status),
      h('a', { class: 'child-run', href: `#/runs/${enc(child.id)}`, title: child.id }, h('code', { text: `…${child.id.slice(-12)}` })),
      h('span', { class: 'small muted', text: `step ${child.parent_step}` })))));
}

function fact(term, value) {
  return [h('dt', { text: term }), h('dd', {}, value)];
}

async function agentOf(api, agentId) {
  try {
    return await api.get(`/api/agents/${enc(agentId)}`);
  } catch {
    return null; // a deleted agent: its runs stay readable
  }
}
