// Agents: the list, and the editor (every save of an existing agent makes a new version).
import { h, clear, field, showProblem, clearFieldErrors, when, busy } from './dom.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}/g;

/** The distinct {{variable}} names of a prompt, as the server detects them. */
export function promptVariables(prompt) {
  return [...new Set([...(prompt || '').matchAll(PLACEHOLDER)].map(m => m[1]))].sort();
}

export async function agentList({ api, main }) {
  document.title = 'Agents · Aryabhatta';
  const agents = await api.all('/api/agents');
  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, 'Agents'),
      h('a', { class: 'button primary', href: '#/agents/new', id: 'new-agent' }, 'New agent')),
    agents.length === 0
      ? h('div', { class: 'panel muted' }, 'No agents yet. Create one: a system prompt, a model, and the tools it may use.')
      : h('div', { class: 'cards', id: 'agent-list' }, agents.map(agentCard)));
}

function agentCard(agent) {
  return h('article', { class: 'card', dataset: { agent: agent.name } },
    h('div', { class: 'row spread' }, h('h2', { text: agent.name }), h('span', { class: 'badge', text: `v${agent.version}` })),
    agent.description ? h('div', { class: 'muted small', text: agent.description }) : null,
    h('div', { class: 'small' }, h('code', { text: `${agent.model.provider} / ${agent.model.name}` })),
    h('div', { class: 'small' }, agent.tools.length
      ? agent.tools.map(t => h('span', { class: 'chip', text: t }))
      : h('span', { class: 'muted', text: 'no tools' })),
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: `#/chat/${encodeURIComponent(agent.id)}` }, 'Chat'),
      h('a', { class: 'button', href: `#/agents/${encodeURIComponent(agent.id)}` }, 'Edit')));
}

export async function agentEditor({ api, main, go }, id) {
  const [agent, tools, providers] = await Promise.all([
    id ? api.get(`/api/agents/${encodeURIComponent(id)}`) : null,
    api.all('/api/tools'),
    api.all('/api/providers'),
  ]);
  document.title = `${agent ? agent.name : 'New agent'} · Aryabhatta`;

  const inputs = {
    name: h('input', { type: 'text', id: 'agent-name', placeholder: 'support-bot', autocomplete: 'off' }),
    description: h('input', { type: 'text', id: 'agent-description' }),
    systemPrompt: h('textarea', { id: 'agent-prompt', rows: 8, placeholder: 'You are … Today is {{date}}.' }),
    provider: h('select', { id: 'agent-provider' }, providers.map(p => h('option', { value: p.name, text: p.name }))),
    model: h('input', { type: 'text', id: 'agent-model', list: 'agent-models', autocomplete: 'off' }),
    temperature: h('input', { type: 'number', id: 'agent-temperature', step: '0.1', min: '0', max: '2' }),
    maxTokens: h('input', { type: 'number', id: 'agent-max-tokens', min: '1' }),
    approval: h('select', { id: 'agent-approval' },
      h('option', { value: 'never', text: 'never — run tools at once' }),
      h('option', { value: 'per_tool', text: 'per tool — ask for tools marked “requires approval”' }),
      h('option', { value: 'always', text: 'always — ask before every tool call' })),
    maxSteps: h('input', { type: 'number', id: 'agent-max-steps', min: '1', max: '100' }),
    contextWindow: h('input', { type: 'number', id: 'agent-context-window', min: '1' }),
  };
  const models = h('datalist', { id: 'agent-models' });
  const modelHint = h('div', { class: 'hint' });
  const variables = h('div', { class: 'small', id: 'agent-variables' });
  const toolBoxes = tools.map(tool => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: tool.name, name: 'tool' }),
    h('span', {}, h('code', { text: tool.name }), ' ', h('span', { class: 'badge', text: tool.kind }),
      tool.requires_approval ? h('span', { class: 'badge requires_action', text: 'requires approval' }) : null,
      h('div', { class: 'hint', text: tool.description || '' }))));

  const fill = (a) => {
    inputs.name.value = a?.name ?? '';
    inputs.description.value = a?.description ?? '';
    inputs.systemPrompt.value = a?.system_prompt ?? '';
    inputs.provider.value = a?.model?.provider ?? (providers.find(p => p.name !== 'hf')?.name ?? 'hf');
    inputs.model.value = a?.model?.name ?? '';
    inputs.temperature.value = a?.model?.temperature ?? '';
    inputs.maxTokens.value = a?.model?.max_tokens ?? '';
    inputs.approval.value = a?.tool_approval ?? 'never';
    inputs.maxSteps.value = a?.max_steps ?? 10;
    inputs.contextWindow.value = a?.context_window ?? 8000;
    const chosen = new Set(a?.tools ?? []);
    toolBoxes.forEach(label => { const box = label.querySelector('input'); box.checked = chosen.has(box.value); });
    showVariables();
  };
  const showVariables = () => {
    const names = promptVariables(inputs.systemPrompt.value);
    clear(variables, names.length
      ? ['Variables, filled per conversation: ', names.map(n => h('span', { class: 'chip', text: `{{${n}}}` }))]
      : h('span', { class: 'muted', text: 'No {{variables}} in the prompt.' }));
  };
  inputs.systemPrompt.addEventListener('input', showVariables);

  const loadModels = async () => {
    clear(models);
    modelHint.textContent = '';
    try {
      const list = await api.get(`/api/providers/${encodeURIComponent(inputs.provider.value)}/models`);
      list.data.forEach(m => models.append(h('option', { value: m.id })));
      modelHint.textContent = list.data.length ? `${list.data.length} model(s) offered by ${inputs.provider.value}` : '';
    } catch (error) {
      modelHint.textContent = `Could not list models: ${error.detail || error.message}`;
    }
  };
  inputs.provider.addEventListener('change', loadModels);

  const body = () => {
    const number = (input) => input.value === '' ? null : Number(input.value);
    return {
      name: inputs.name.value.trim(),
      description: inputs.description.value,
      system_prompt: inputs.systemPrompt.value,
      model: {
        provider: inputs.provider.value,
        name: inputs.model.value.trim(),
        temperature: number(inputs.temperature),
        max_tokens: number(inputs.maxTokens),
      },
      tools: toolBoxes.map(l => l.querySelector('input')).filter(b => b.checked).map(b => b.value),
      tool_approval: inputs.approval.value,
      max_steps: number(inputs.maxSteps),
      context_window: number(inputs.contextWindow),
    };
  };

  const slot = h('div', { id: 'agent-errors' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-agent' }, agent ? `Save as version ${agent.version + 1}` : 'Create agent');
  const form = h('form', {
    class: 'panel stack',
    onSubmit: async (e) => {
      e.preventDefault();
      clear(slot);
      clearFieldErrors(form);
      await busy(save, async () => {
        try {
          const saved = agent
            ? await api.patch(`/api/agents/${encodeURIComponent(agent.id)}`, body())
            : await api.post('/api/agents', body());
          if (agent) {
            // Same address, new version: render the editor again.
            window.dispatchEvent(new HashChangeEvent('hashchange'));
          } else {
            go(`#/agents/${encodeURIComponent(saved.id)}`);
          }
        } catch (error) {
          showProblem(slot, error, form);
        }
      });
    },
  },
  h('div', { class: 'fields' },
    field('Name', inputs.name, { field: 'name', hint: 'lowercase, digits, - and _' }),
    field('Description', inputs.description, { field: 'description' })),
  field('System prompt', inputs.systemPrompt, { field: 'system_prompt', hint: 'use {{name}} for values given per conversation' }),
  variables,
  h('div', { class: 'fields' },
    field('Provider', inputs.provider, { field: 'model.provider' }),
    h('div', { class: 'field', dataset: { field: 'model.name' } },
      h('label', { for: 'agent-model' }, 'Model'), inputs.model, models, modelHint),
    field('Temperature', inputs.temperature, { field: 'model.temperature', hint: 'optional' }),
    field('Max tokens', inputs.maxTokens, { field: 'model.max_tokens', hint: 'optional' })),
  h('fieldset', { class: 'field', dataset: { field: 'tools' } },
    h('legend', {}, h('strong', {}, 'Tools'), h('span', { class: 'hint' }, ' the model may call; the server executes them')),
    tools.length ? toolBoxes : h('div', { class: 'muted small' }, 'No tools yet. ', h('a', { href: '#/tools/new' }, 'Create one'))),
  h('div', { class: 'fields' },
    field('Tool approval', inputs.approval, { field: 'tool_approval' }),
    field('Max steps', inputs.maxSteps, { field: 'max_steps', hint: '1–100' }),
    field('Context window', inputs.contextWindow, { field: 'context_window', hint: 'prompt tokens' })),
  slot,
  h('div', { class: 'row' },
    save,
    agent ? h('a', { class: 'button', href: `#/chat/${encodeURIComponent(agent.id)}`, id: 'chat-agent' }, 'Chat') : null,
    agent ? h('a', { class: 'button', href: `#/agents/${encodeURIComponent(agent.id)}/evaluations`, id: 'agent-evaluations' }, 'Evaluations') : null,
    h('span', { class: 'grow' }),
    agent ? h('button', {
      type: 'button', class: 'danger',
      onClick: async (e) => {
        if (!confirm(`Delete agent ${agent.name}? Its runs stay readable.`)) return;
        await busy(e.target, async () => {
          try {
            await api.delete(`/api/agents/${encodeURIComponent(agent.id)}`);
            go('#/agents');
          } catch (error) {
            showProblem(slot, error);
          }
        });
      },
    }, 'Delete') : null));

  const side = agent ? await versionPanel(api, agent, fill) : h('aside', { class: 'panel small muted' },
    'Saving an agent again never overwrites it: each save is a new immutable version, and every run keeps the version it started with.');

  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, agent ? ['Agent ', h('code', { text: agent.name }), ' ', h('span', { class: 'badge', id: 'agent-version', text: `version ${agent.version}` })] : 'New agent'),
      h('a', { href: '#/agents' }, '← All agents')),
    h('div', { class: 'editor' }, form, side));
  fill(agent);
  loadModels();
  (agent ? inputs.systemPrompt : inputs.name).focus();
}

async function versionPanel(api, agent, fill) {
  const versions = (await api.all(`/api/agents/${encodeURIComponent(agent.id)}/versions`)).reverse();
  const preview = h('div');
  const show = (v) => clear(preview, h('div', { class: 'version-view stack small' },
    h('div', { class: 'row spread' }, h('strong', { text: `Version ${v.version}` }), h('span', { class: 'muted', text: when(v.created_at) })),
    h('div', {}, h('code', { text: `${v.model.provider} / ${v.model.name}` }), ` · approval ${v.tool_approval} · max ${v.max_steps} steps`),
    h('div', {}, v.tools.length ? v.tools.map(t => h('span', { class: 'chip', text: t })) : h('span', { class: 'muted', text: 'no tools' })),
    h('pre', { text: v.system_prompt }),
    v.version === agent.version ? null
      : h('button', { type: 'button', onClick: () => fill(v) }, 'Load into the editor')));
  return h('aside', { class: 'panel stack' },
    h('h2', {}, 'Version history'),
    h('ul', { class: 'list versions', id: 'agent-versions' }, versions.map(v =>
      h('li', { class: v.version === agent.version ? 'current' : null },
        h('span', {}, `v${v.version}`, v.version === agent.version ? h('span', { class: 'badge ok', text: 'latest' }) : null),
        h('span', { class: 'muted small', text: when(v.created_at) }),
        h('button', { type: 'button', class: 'link', onClick: () => show(v) }, 'view')))),
    preview);
}

