// "Fork from here": a new run that reuses the journal before a model call and asks the model again
// there, with an edited system prompt or model settings (POST /api/runs/{id}/fork).
import { h, field, showProblem, clearFieldErrors, busy } from './dom.js';
import { systemPromptOf } from './run-data.js';

const enc = encodeURIComponent;

/** The form for forking `run` at its model call `step`; onForked(fork) gets the new run. */
export function forkForm({ api, run, step, onForked, onCancel }) {
  const original = systemPromptOf(step);
  const model = step.request?.model ?? '';
  const temperature = step.request?.temperature;
  const inputs = {
    prompt: h('textarea', { id: 'fork-prompt', rows: 6, value: original }),
    model: h('input', { type: 'text', id: 'fork-model', placeholder: model ? `as recorded: ${model}` : 'as recorded', autocomplete: 'off' }),
    temperature: h('input', { type: 'number', id: 'fork-temperature', step: '0.1', min: '0', max: '2', placeholder: temperature != null ? `as recorded: ${temperature}` : 'as recorded' }),
  };
  const slot = h('div', { id: 'fork-errors' });
  const start = h('button', { type: 'submit', class: 'primary', id: 'start-fork' }, 'Start the fork');
  const form = h('form', {
    class: 'fork-form panel stack', id: 'fork-form', 'aria-label': `Fork from step ${step.index}`,
    onSubmit: async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      await busy(start, async () => {
        try {
          onForked(await api.post(`/api/runs/${enc(run.id)}/fork`, { from_step: step.index, agent_overrides: overrides(inputs, original) }));
        } catch (error) {
          showProblem(slot, error, form);
        }
      });
    },
  },
  h('h3', { text: `Fork from step ${step.index}` }),
  h('p', { class: 'hint', text: `A new run in a new conversation, with the same input${step.index > 0 ? ` and steps 0–${step.index - 1} copied as they were` : ''}: it asks the model again at step ${step.index}, with what you change below. The agent itself is not changed.` }),
  field('System prompt', inputs.prompt, { field: 'agent_overrides.system_prompt', hint: 'prefilled with the prompt this call sent' }),
  h('div', { class: 'fields' },
    field('Model', inputs.model, { field: 'agent_overrides.model.name', hint: 'optional' }),
    field('Temperature', inputs.temperature, { field: 'agent_overrides.model.temperature', hint: 'optional' })),
  slot,
  h('div', { class: 'row' }, start, h('button', { type: 'button', onClick: onCancel }, 'Cancel')));
  setTimeout(() => inputs.prompt.focus());
  return form;
}

/** The JSON merge patch over the run's agent version: only what was changed. */
function overrides(inputs, originalPrompt) {
  const patch = {};
  if (inputs.prompt.value !== originalPrompt) patch.system_prompt = inputs.prompt.value;
  const model = {};
  if (inputs.model.value.trim()) model.name = inputs.model.value.trim();
  if (inputs.temperature.value !== '') model.temperature = Number(inputs.temperature.value);
  if (Object.keys(model).length) patch.model = model;
  return Object.keys(patch).length ? patch : null;
}
