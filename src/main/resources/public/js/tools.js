// Tools: the list, and the editor for http and client tools with a JSON Schema editor and a test button.
import { h, clear, field, showProblem, clearFieldErrors, problemBox, pretty, duration, busy } from './dom.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const EXAMPLE_SCHEMA = {
  type: 'object',
  properties: { order_id: { type: 'string', description: 'the order number' } },
  required: ['order_id'],
};

export async function toolList({ api, main }) {
  document.title = 'Tools · Aryabhatta';
  const tools = await api.all('/api/tools');
  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, 'Tools'),
      h('a', { class: 'button primary', href: '#/tools/new', id: 'new-tool' }, 'New HTTP tool')),
    h('div', { class: 'cards', id: 'tool-list' }, tools.map(tool =>
      h('article', { class: 'card', dataset: { tool: tool.name } },
        h('div', { class: 'row spread' }, h('h2', {}, h('code', { text: tool.name })), h('span', { class: 'badge', text: tool.kind })),
        h('div', { class: 'muted small', text: tool.description || '' }),
        tool.http ? h('div', { class: 'small' }, h('code', { text: `${tool.http.method} ${tool.http.url}` })) : null,
        h('div', { class: 'actions' },
          h('a', { class: 'button', href: `#/tools/${encodeURIComponent(tool.id)}` }, tool.kind === 'builtin' ? 'View & test' : 'Edit & test'))))));
}

/** A JSON textarea that checks itself as the user types. */
function jsonEditor(id, { rows = 8, allowEmpty = false, mustBeObject = true } = {}) {
  const area = h('textarea', { id, rows, class: 'code', spellcheck: 'false' });
  const status = h('div', { class: 'hint', id: `${id}-status` });
  const parse = () => {
    const text = area.value.trim();
    if (!text) {
      if (allowEmpty) return { ok: true, value: null };
      return { ok: false, message: 'required' };
    }
    try {
      const value = JSON.parse(text);
      if (mustBeObject && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        return { ok: false, message: 'must be a JSON object' };
      }
      return { ok: true, value };
    } catch (e) {
      return { ok: false, message: `invalid JSON: ${e.message}` };
    }
  };
  const check = () => {
    const result = parse();
    area.classList.toggle('invalid', !result.ok);
    status.textContent = result.ok ? (result.value === null ? '' : '✓ valid JSON') : result.message;
    status.classList.toggle('field-error', !result.ok);
    area.dispatchEvent(new CustomEvent('validity'));
    return result;
  };
  area.addEventListener('input', check);
  const format = h('button', {
    type: 'button', class: 'link small',
    onClick: () => { const r = parse(); if (r.ok && r.value !== null) area.value = JSON.stringify(r.value, null, 2); check(); },
  }, 'Format');
  return { area, status, format, parse, check, set: (v) => { area.value = v === null || v === undefined ? '' : pretty(v); check(); } };
}

/** Example arguments from a schema, so the test button has something to send. */
function exampleArguments(schema) {
  const args = {};
  for (const [name, prop] of Object.entries(schema?.properties || {})) {
    const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
    args[name] = prop.default ?? prop.example ?? (prop.enum ? prop.enum[0]
      : type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true
        : type === 'array' ? [] : type === 'object' ? {} : 'example');
  }
  return args;
}

export async function toolEditor({ api, main, go }, id) {
  const tool = id ? await api.get(`/api/tools/${encodeURIComponent(id)}`) : null;
  const readOnly = tool?.kind === 'builtin' || tool?.kind === 'mcp';
  document.title = `${tool ? tool.name : 'New tool'} · Aryabhatta`;

  const inputs = {
    name: h('input', { type: 'text', id: 'tool-name', autocomplete: 'off', placeholder: 'lookup_order' }),
    kind: h('select', { id: 'tool-kind' }, h('option', { value: 'http', text: 'http — the server calls a URL' }),
      h('option', { value: 'client', text: 'client — your app answers the call' })),
    description: h('textarea', { id: 'tool-description', rows: 2, placeholder: 'What the tool does; the model reads this.' }),
    method: h('select', { id: 'tool-method' }, METHODS.map(m => h('option', { value: m, text: m }))),
    url: h('input', { type: 'text', id: 'tool-url', placeholder: 'https://shop.example/api/orders/{order_id}' }),
    timeout: h('input', { type: 'number', id: 'tool-timeout', min: '1' }),
    idempotent: h('input', { type: 'checkbox', id: 'tool-idempotent' }),
    requiresApproval: h('input', { type: 'checkbox', id: 'tool-requires-approval' }),
  };
  const schema = jsonEditor('tool-parameters', { rows: 10 });
  const headers = jsonEditor('tool-headers', { rows: 3, allowEmpty: true });
  const requestBody = jsonEditor('tool-body', { rows: 3, allowEmpty: true, mustBeObject: false });

  inputs.name.value = tool?.name ?? '';
  inputs.kind.value = tool?.kind === 'client' ? 'client' : 'http';
  inputs.description.value = tool?.description ?? '';
  inputs.method.value = tool?.http?.method ?? 'GET';
  inputs.url.value = tool?.http?.url ?? '';
  inputs.timeout.value = tool?.http?.timeout_ms ?? 10000;
  inputs.idempotent.checked = tool ? tool.idempotent : true;
  inputs.requiresApproval.checked = tool?.requires_approval ?? false;
  schema.set(tool?.parameters ?? EXAMPLE_SCHEMA);
  headers.set(tool?.http && Object.keys(tool.http.headers || {}).length ? tool.http.headers : null);
  requestBody.set(tool?.http?.body ?? null);
  if (tool) inputs.kind.disabled = true;

  const httpPart = h('div', { class: 'stack', id: 'tool-http' },
    h('div', { class: 'fields' },
      field('Method', inputs.method, { field: 'http.method' }),
      h('div', { class: 'field', dataset: { field: 'http.timeout_ms' } }, h('label', { for: 'tool-timeout' }, 'Timeout (ms)'), inputs.timeout)),
    field('URL', inputs.url, { field: 'http.url', hint: '{param} takes an argument, {{secret.NAME}} a secret' }),
    h('div', { class: 'field', dataset: { field: 'http.headers' } },
      h('label', { for: 'tool-headers' }, 'Headers', h('span', { class: 'hint' }, ' JSON object, optional, e.g. {"Authorization": "Bearer {{secret.SHOP_TOKEN}}"}')),
      headers.area, headers.status),
    h('div', { class: 'field', dataset: { field: 'http.body' } },
      h('label', { for: 'tool-body' }, 'Body template', h('span', { class: 'hint' }, ' JSON, optional; empty sends the arguments as the body of POST/PUT/PATCH')),
      requestBody.area, requestBody.status));
  const showKind = () => { httpPart.hidden = inputs.kind.value !== 'http'; };
  inputs.kind.addEventListener('change', showKind);
  showKind();

  const slot = h('div', { id: 'tool-errors' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-tool' }, tool ? 'Save tool' : 'Create tool');
  const validity = () => {
    const bad = [schema, ...(inputs.kind.value === 'http' ? [headers, requestBody] : [])].some(e => !e.parse().ok);
    save.disabled = bad;
  };
  [schema, headers, requestBody].forEach(e => e.area.addEventListener('validity', validity));
  inputs.kind.addEventListener('change', validity);

  const body = () => {
    const result = {
      name: inputs.name.value.trim(),
      description: inputs.description.value,
      parameters: schema.parse().value,
      requires_approval: inputs.requiresApproval.checked,
    };
    if (!tool) result.kind = inputs.kind.value;
    if (inputs.kind.value === 'http') {
      result.idempotent = inputs.idempotent.checked;
      result.http = {
        method: inputs.method.value,
        url: inputs.url.value.trim(),
        headers: headers.parse().value ?? {},
        body: requestBody.parse().value,
        timeout_ms: inputs.timeout.value === '' ? null : Number(inputs.timeout.value),
      };
    }
    return result;
  };

  const form = h('form', {
    class: 'panel stack',
    onSubmit: async (e) => {
      e.preventDefault();
      clear(slot);
      clearFieldErrors(form);
      await busy(save, async () => {
        try {
          const saved = tool
            ? await api.patch(`/api/tools/${encodeURIComponent(tool.id)}`, mergePatch(current(tool), body()))
            : await api.post('/api/tools', body());
          if (tool) {
            clear(slot, h('div', { class: 'notice', role: 'status', text: 'Saved.' }));
          } else {
            go(`#/tools/${encodeURIComponent(saved.id)}`);
          }
        } catch (error) {
          showProblem(slot, error, form);
        }
      });
      validity();
    },
  },
  h('div', { class: 'fields' },
    field('Name', inputs.name, { field: 'name', hint: 'letters, digits, - and _' }),
    field('Kind', inputs.kind, { field: 'kind' })),
  field('Description', inputs.description, { field: 'description' }),
  h('div', { class: 'field', dataset: { field: 'parameters' } },
    h('div', { class: 'row spread' },
      h('label', { for: 'tool-parameters' }, 'Parameters', h('span', { class: 'hint' }, ' JSON Schema of the arguments')),
      schema.format),
    schema.area, schema.status),
  httpPart,
  h('div', { class: 'row' },
    h('label', { class: 'check' }, inputs.idempotent, h('span', {}, 'Idempotent', h('div', { class: 'hint' }, 'safe to repeat after a crash (same Idempotency-Key)'))),
    h('label', { class: 'check' }, inputs.requiresApproval, h('span', {}, 'Requires approval', h('div', { class: 'hint' }, 'asked for when the agent’s approval policy is “per tool”')))),
  slot,
  h('div', { class: 'row' }, save,
    h('span', { class: 'grow' }),
    tool ? h('button', {
      type: 'button', class: 'danger',
      onClick: async (e) => {
        if (!confirm(`Delete tool ${tool.name}?`)) return;
        await busy(e.target, async () => {
          try {
            await api.delete(`/api/tools/${encodeURIComponent(tool.id)}`);
            go('#/tools');
          } catch (error) {
            showProblem(slot, error);
          }
        });
      },
    }, 'Delete') : null));

  main.append(
    h('div', { class: 'row spread' },
      h('h1', {}, tool ? ['Tool ', h('code', { text: tool.name }), ' ', h('span', { class: 'badge', text: tool.kind })] : 'New tool'),
      h('a', { href: '#/tools' }, '← All tools')),
    h('div', { class: 'editor' },
      readOnly ? readOnlyView(tool) : form,
      tool ? testPanel(api, tool) : h('aside', { class: 'panel small muted' },
        'Create the tool first, then test it here with example arguments. Tests run the real call, with the same checks as in a run.')));
  if (readOnly) return;
  validity();
  inputs.name.focus();
}

/** The tool's editable fields as they are now, to diff the edited ones against. */
function current(tool) {
  return {
    name: tool.name, description: tool.description, parameters: tool.parameters,
    requires_approval: tool.requires_approval, idempotent: tool.idempotent,
    http: tool.http ? { method: tool.http.method, url: tool.http.url, headers: tool.http.headers,
      body: tool.http.body, timeout_ms: tool.http.timeout_ms } : undefined,
  };
}

/**
 * A JSON Merge Patch (RFC 7386) turning `from` into `to`: a key missing from `to` becomes null,
 * so removing a property from a schema or a header really removes it.
 */
export function mergePatch(from, to) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(from) || !isObject(to)) return to;
  const patch = {};
  for (const key of Object.keys(from)) {
    if (!(key in to) && from[key] !== undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    patch[key] = isObject(from[key]) && isObject(value) ? mergePatch(from[key], value) : value;
  }
  return patch;
}

function readOnlyView(tool) {
  return h('div', { class: 'panel stack' },
    h('p', { class: 'muted', text: tool.kind === 'builtin' ? 'A built-in tool: shipped with the server, read-only.' : 'Imported from an MCP server: read-only here.' }),
    h('div', { text: tool.description || '' }),
    h('div', {}, h('strong', {}, 'Parameters'), h('pre', { text: pretty(tool.parameters) })));
}

function testPanel(api, tool) {
  const args = jsonEditor('tool-test-arguments', { rows: 6 });
  args.set(exampleArguments(tool.parameters));
  const out = h('div', { id: 'tool-test-result', 'aria-live': 'polite' });
  const run = h('button', {
    type: 'button', class: 'primary', id: 'test-tool',
    onClick: async () => {
      const parsed = args.check();
      if (!parsed.ok) return;
      clear(out, h('div', { class: 'muted small', text: 'Running…' }));
      await busy(run, async () => {
        try {
          const r = await api.post(`/api/tools/${encodeURIComponent(tool.id)}/test`, { arguments: parsed.value });
          clear(out, h('div', { class: 'stack' },
            h('div', { class: 'row' },
              h('span', { class: `badge ${r.status}`, text: r.status }),
              r.status_code ? h('span', { class: 'small', text: `HTTP ${r.status_code}` }) : null,
              h('span', { class: 'small muted', text: duration(r.duration_ms) })),
            h('pre', { class: 'version-view', text: pretty(r.result) })));
        } catch (error) {
          clear(out, problemBox(error));
        }
      });
    },
  }, 'Test');
  const executable = tool.kind === 'http' || tool.kind === 'builtin';
  return h('aside', { class: 'panel stack' },
    h('h2', {}, 'Test'),
    executable
      ? [h('div', { class: 'field' }, h('label', { for: 'tool-test-arguments' }, 'Arguments'), args.area, args.status),
        h('div', { class: 'row' }, run), out]
      : h('p', { class: 'muted small', text: 'Client tools are executed by your application, not by the server: nothing to test here. In a chat, the playground asks you for their output.' }));
}
