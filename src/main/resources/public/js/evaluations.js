// An agent's evaluations (#/agents/{id}/evaluations): its test cases, running them all against a
// version, and the report: pass or fail per case, why, and a link to each case's run.
import { h, clear, field, showProblem, clearFieldErrors, problemBox, pretty, badge, duration, when, busy } from './dom.js';
import { promptVariables } from './agents.js';

const enc = encodeURIComponent;

export async function evaluationsPage({ api, main }, agentId) {
  const [agent, reports] = await Promise.all([
    api.get(`/api/agents/${enc(agentId)}`),
    api.get(`/api/agents/${enc(agentId)}/evaluations`),
  ]);
  document.title = `Evaluations · ${agent.name} · Aryabhatta`;

  const caseList = h('div', { class: 'stack', id: 'evaluation-cases' });
  const reportSlot = h('div', { id: 'evaluation-report' });
  const pastList = h('ul', { class: 'list small', id: 'evaluation-history' });

  const showCases = async () => {
    const cases = (await api.get(`/api/agents/${enc(agentId)}/evaluation_cases`)).data;
    clear(caseList, cases.length
      ? cases.map(c => caseCard(api, c, showCases))
      : h('p', { class: 'muted', text: 'No cases yet: add one below.' }));
  };
  const showReport = (report) => clear(reportSlot, reportView(report));
  const showHistory = (list) => clear(pastList, list.length
    ? list.map(r => h('li', { class: 'row spread' },
      h('button', { type: 'button', class: 'link past-report', onClick: () => showReport(r) }, `v${r.agent_version}: ${r.passed} passed, ${r.failed} failed`),
      h('span', { class: 'muted', text: when(r.created_at) })))
    : h('li', { class: 'muted', text: 'none yet' }));

  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, 'Evaluations of ', h('code', { text: agent.name })),
      h('a', { href: `#/agents/${enc(agent.id)}` }, '← The agent')),
    h('p', { class: 'muted small', text: 'Each case is run as an ordinary run of the agent; every expectation given must hold. A run that waits for an approval or a client tool fails its case.' }),
    reportSlot,
    h('div', { class: 'editor' },
      h('div', { class: 'stack' },
        h('section', { class: 'panel stack' }, h('h2', { text: 'Cases' }), caseList),
        caseForm(api, agent, showCases)),
      h('div', { class: 'stack' },
        runPanel(api, agent, (report) => {
          showReport(report);
          reportSlot.scrollIntoView({ block: 'start' });
          api.get(`/api/agents/${enc(agentId)}/evaluations`).then(page => showHistory(page.data)).catch(() => {});
        }),
        h('aside', { class: 'panel stack' }, h('h2', { text: 'Past evaluations' }), pastList))));
  showHistory(reports.data);
  await showCases();
}

function caseCard(api, c, refresh) {
  const slot = h('div');
  return h('article', { class: 'eval-case', dataset: { case: c.name } },
    h('div', { class: 'row spread' },
      h('strong', { text: c.name }),
      h('button', {
        type: 'button', class: 'danger delete-case', 'aria-label': `Delete case ${c.name}`,
        onClick: async (e) => {
          if (!confirm(`Delete the case “${c.name}”?`)) return;
          await busy(e.target, async () => {
            try {
              await api.delete(`/api/evaluation_cases/${enc(c.id)}`);
              await refresh();
            } catch (error) {
              clear(slot, problemBox(error));
            }
          });
        },
      }, 'Delete')),
    h('div', { class: 'small' }, h('span', { class: 'muted', text: 'Input: ' }), c.input),
    Object.keys(c.variables || {}).length
      ? h('div', { class: 'small' }, h('span', { class: 'muted', text: 'Variables: ' }), Object.entries(c.variables).map(([k, v]) => `${k}=${v}`).join(', '))
      : null,
    h('pre', { class: 'expect small', text: pretty(withoutNulls(c.expect)) }),
    slot);
}

function caseForm(api, agent, refresh) {
  const inputs = {
    name: h('input', { type: 'text', id: 'case-name', placeholder: 'looks the order up' }),
    input: h('textarea', { id: 'case-input', rows: 2, placeholder: 'Where is order 42?' }),
    toolCalled: h('input', { type: 'text', id: 'case-tool-called', list: 'case-tools', autocomplete: 'off' }),
    toolArguments: h('textarea', { id: 'case-tool-arguments', class: 'code', rows: 2, placeholder: '{"type": "object", "required": ["order_id"]}' }),
    outputContains: h('input', { type: 'text', id: 'case-output-contains' }),
    outputMatches: h('input', { type: 'text', id: 'case-output-matches', placeholder: '\\bshipped\\b' }),
    outputSchema: h('textarea', { id: 'case-output-schema', class: 'code', rows: 2 }),
  };
  const variables = new Map(promptVariables(agent.system_prompt).map(name => [name, h('input', { type: 'text', id: `case-var-${name}` })]));
  const slot = h('div', { id: 'case-errors' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'add-case' }, 'Add case');
  const form = h('form', {
    class: 'panel stack', id: 'case-form',
    onSubmit: async (e) => {
      e.preventDefault();
      clear(slot);
      clearFieldErrors(form);
      let body;
      try {
        body = caseBody(inputs, variables);
      } catch (problem) {
        showProblem(slot, problem, form);
        return;
      }
      await busy(save, async () => {
        try {
          await api.post(`/api/agents/${enc(agent.id)}/evaluation_cases`, body);
          form.reset();
          await refresh();
        } catch (error) {
          showProblem(slot, error, form);
        }
      });
    },
  },
  h('h2', { text: 'Add a case' }),
  field('Name', inputs.name, { field: 'name' }),
  field('Input', inputs.input, { field: 'input', hint: 'the user’s message' }),
  variables.size ? h('div', { class: 'fields' }, [...variables].map(([name, el]) => field(`{{${name}}}`, el, { field: `variables.${name}` }))) : null,
  h('fieldset', { class: 'field stack', dataset: { field: 'expect' } },
    h('legend', {}, h('strong', {}, 'Expectations'), h('span', { class: 'hint' }, ' at least one; all given must hold')),
    h('div', { class: 'fields' },
      field('Tool called', inputs.toolCalled, { field: 'expect.tool_called', hint: 'a tool name' }),
      field('Output contains', inputs.outputContains, { field: 'expect.output_contains' }),
      field('Output matches', inputs.outputMatches, { field: 'expect.output_matches', hint: 'a regular expression' })),
    h('datalist', { id: 'case-tools' }, agent.tools.map(t => h('option', { value: t }))),
    field('Tool arguments match', inputs.toolArguments, { field: 'expect.tool_arguments', hint: 'a JSON Schema, optional' }),
    field('Output matches the schema', inputs.outputSchema, { field: 'expect.output_schema', hint: 'a JSON Schema for the answer parsed as JSON, optional' })),
  slot,
  h('div', { class: 'row' }, save));
  return form;
}

/** The case as the API takes it; a JSON field that does not parse is refused here, by field. */
function caseBody(inputs, variables) {
  const text = (el) => el.value.trim() === '' ? undefined : el.value;
  const schema = (el, name) => {
    if (el.value.trim() === '') return undefined;
    try {
      return JSON.parse(el.value);
    } catch (e) {
      throw { title: 'Not JSON', detail: `${name} must be a JSON Schema`, errors: [{ field: `expect.${name}`, message: `is not valid JSON (${e.message})` }] };
    }
  };
  return {
    name: inputs.name.value.trim(),
    input: inputs.input.value,
    variables: Object.fromEntries([...variables].map(([name, el]) => [name, el.value])),
    expect: {
      tool_called: text(inputs.toolCalled)?.trim(),
      tool_arguments: schema(inputs.toolArguments, 'tool_arguments'),
      output_contains: text(inputs.outputContains),
      output_matches: text(inputs.outputMatches),
      output_schema: schema(inputs.outputSchema, 'output_schema'),
    },
  };
}

function runPanel(api, agent, onReport) {
  const version = h('input', { type: 'number', id: 'evaluation-version', min: '1', max: String(agent.version), placeholder: `latest (${agent.version})` });
  const status = h('div', { id: 'evaluation-status', class: 'small muted', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', class: 'primary', id: 'run-evaluation' }, 'Run evaluation');
  return h('form', {
    class: 'panel stack', id: 'evaluation-run',
    onSubmit: async (e) => {
      e.preventDefault();
      clear(status, 'Running every case… the answer comes when all runs have ended.');
      await busy(run, async () => {
        try {
          const body = version.value === '' ? {} : { version: Number(version.value) };
          const report = await api.post(`/api/agents/${enc(agent.id)}/evaluations`, body);
          clear(status);
          onReport(report);
        } catch (error) {
          clear(status, problemBox(error));
        }
      });
    },
  },
  h('h2', { text: 'Run the cases' }),
  h('div', { class: 'row' }, h('label', { for: version.id }, 'Agent version'), h('span', { class: 'version-input' }, version), run),
  status);
}

function reportView(report) {
  return h('section', { class: 'panel stack report', dataset: { evaluation: report.id } },
    h('div', { class: 'row spread' },
      h('h2', {}, `Report: version ${report.agent_version}`),
      h('span', { class: 'row' },
        h('span', { class: 'badge completed', text: `${report.passed} passed` }),
        h('span', { class: `badge ${report.failed ? 'failed' : ''}`, text: `${report.failed} failed` }))),
    h('div', { class: 'table-wrap' }, h('table', { class: 'results', id: 'evaluation-results' },
      h('thead', {}, h('tr', {}, ['Case', 'Result', 'Why', 'Run', 'Cost'].map(t => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, report.cases.map(caseRow)))),
    h('p', { class: 'small muted', text: `Finished ${when(report.finished_at)}` }));
}

function caseRow(result) {
  return h('tr', { dataset: { case: result.name } },
    h('th', { scope: 'row', text: result.name }),
    h('td', {}, h('span', { class: `badge ${result.passed ? 'ok' : 'failed'} verdict`, text: result.passed ? 'pass' : 'fail' })),
    h('td', { class: 'why' }, result.passed ? h('span', { class: 'muted', text: 'every expectation held' })
      : h('ul', {}, result.failures.map(f => h('li', { text: f })))),
    h('td', {}, result.run_id
      ? h('a', { class: 'case-run', href: `#/runs/${enc(result.run_id)}` }, 'Inspect run', result.run_status ? [' ', badge(result.run_status)] : null)
      : h('span', { class: 'muted', text: 'no run' })),
    h('td', { class: 'small' }, `${result.steps} steps · ${result.total_tokens} tokens · ${duration(result.duration_ms)}`));
}

function withoutNulls(object) {
  return Object.fromEntries(Object.entries(object || {}).filter(([, v]) => v !== null && v !== undefined));
}
