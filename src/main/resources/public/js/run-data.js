// A run as the inspector shows it: the run, its journal with the exact texts of each step, where it
// was forked from, and a poll that keeps it fresh while it is going.
import { jsonSpans, rawAt } from './raw-json.js';

const enc = encodeURIComponent;
// 'waiting': a parent waiting for its child runs goes on by itself once they end.
const ACTIVE = new Set(['queued', 'running', 'waiting']);

export function isActive(run) {
  return ACTIVE.has(run.status);
}

/** Changes without anyone acting on this run: going, or waiting for a person on one of its child runs. */
export function changesByItself(run) {
  return isActive(run) || run.required_action?.type === 'child_requires_action';
}

/** The runs a run's calls of agents started, in the order of the calls. */
export async function childRuns(api, id) {
  return (await api.get(`/api/runs/${enc(id)}/children`)).data;
}

export function isEnded(run) {
  return ['completed', 'failed', 'cancelled'].includes(run.status);
}

/**
 * The run and its journal. The journal is read after the run: a run seen ended then comes with
 * every step it ended with (read together, the steps could be older than the status, and the
 * refreshing stop at a step still "started").
 */
export async function loadRun(api, id) {
  const run = await api.get(`/api/runs/${enc(id)}`);
  const stepsText = await api.getText(`/api/runs/${enc(id)}/steps`);
  return { run, steps: journal(stepsText) };
}

/**
 * The journal's steps, each with `raw`: the request, the provider's raw response and the arguments
 * as the server wrote them, so that no number is rounded on the way to the screen.
 */
export function journal(text) {
  const spans = jsonSpans(text);
  return JSON.parse(text).data.map((step, i) => {
    const at = (...path) => rawAt(text, spans, ['data', i, ...path]);
    return {
      ...step,
      raw: {
        request: step.request == null ? null : at('request'),
        response: step.response?.raw != null ? at('response', 'raw') : (step.response == null ? null : at('response')),
        arguments: typeof step.arguments === 'string' ? step.arguments : (step.arguments == null ? null : at('arguments')),
      },
    };
  });
}

/** The run's first event, run.created: for a fork it names the run and the step it was forked from. */
export async function origin(api, id) {
  const page = await api.get(`/api/runs/${enc(id)}/events?format=json&limit=1`);
  return page.data[0]?.type === 'run.created' ? page.data[0].data : {};
}

/**
 * Loads every `ms` and shows each result while keepGoing(result) holds; a failed load is shown with
 * onError and tried again. Returns the function that stops it.
 */
export function poll(load, show, keepGoing, onError, ms = 1000) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      const data = await load();
      if (stopped) return;
      onError(null);
      show(data);
      if (!keepGoing(data)) return;
    } catch (error) {
      if (stopped) return;
      onError(error);
    }
    timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The text of the first system message of a model request, or ''. */
export function systemPromptOf(step) {
  const messages = step.request?.messages;
  if (!Array.isArray(messages)) return '';
  const system = messages.find(m => m.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
}

/** What the model answered in a model call: its text, or the tools it asked for. */
export function answerOf(step) {
  const parsed = step.response?.parsed;
  if (!parsed) return '';
  if (parsed.content) return parsed.content;
  const calls = parsed.tool_calls || [];
  return calls.length ? `asks for ${calls.map(c => c.name || c.function?.name).join(', ')}` : '';
}
