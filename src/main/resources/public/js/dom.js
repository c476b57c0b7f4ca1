// Small DOM helpers: build elements, show problems, format values.

/**
 * Builds an element. props: class, text, html is not supported on purpose (all text is escaped),
 * on<Event> handlers, dataset, and any other attribute. Children: nodes, strings, arrays, null.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'selected') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The problem box for an error: title, detail and each field error. */
export function problemBox(error) {
  const title = error.title && error.detail && error.title !== error.detail ? `${error.title}: ` : '';
  return h('div', { class: 'problem', role: 'alert' },
    h('div', {}, h('strong', { text: title }), error.detail || error.message || String(error)),
    error.errors && error.errors.length
      ? h('ul', {}, error.errors.map(e => h('li', {}, h('code', { text: e.field }), ` ${e.message}`)))
      : null,
    error.requestId && error.status >= 500 ? h('div', { class: 'small', text: `request id ${error.requestId}` }) : null);
}

/** Shows an error in `slot` and marks the fields it names (elements with data-field). */
export function showProblem(slot, error, form) {
  clear(slot, problemBox(error));
  if (!form) return;
  clearFieldErrors(form);
  for (const { field, message } of error.errors || []) {
    const target = fieldElement(form, field);
    if (!target) continue;
    target.classList.add('invalid');
    target.append(h('div', { class: 'field-error', text: message }));
  }
}

function fieldElement(form, field) {
  // "tools[2]" or "model.name": try the exact name, then its prefixes.
  let name = field;
  while (name) {
    const el = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (el) return el;
    const cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('['));
    name = cut > 0 ? name.slice(0, cut) : '';
  }
  return null;
}

export function clearFieldErrors(form) {
  form.querySelectorAll('.field.invalid').forEach(el => el.classList.remove('invalid'));
  form.querySelectorAll('.field-error').forEach(el => el.remove());
}

/** A labelled form field; `control` is the input, data-field names the API field. */
export function field(label, control, { field: name, hint } = {}) {
  return h('div', { class: 'field', dataset: name ? { field: name } : undefined },
    h('label', { for: control.id || null }, label, hint ? h('span', { class: 'hint' }, ` ${hint}`) : null),
    control);
}

/**
 * Text for a <pre>. A string holding JSON is re-indented from its own characters, never parsed and
 * written again: numbers keep every digit the model saw (0.3333333333333333333333333333333333 stays
 * so), and keys their order. Other strings are shown as they are.
 */
export function pretty(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') {
    try { JSON.parse(value); } catch { return value; }
    return reindent(value);
  }
  return JSON.stringify(value, null, 2);
}

/** Valid JSON text laid out two spaces a level; what is inside strings is left as it is. */
export function reindent(json) {
  let out = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  const newline = () => '\n' + '  '.repeat(depth);
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      let j = i + 1;
      while (j < json.length && ' \n\r\t'.includes(json[j])) j++;
      if (json[j] === close) {
        out += c + close;
        i = j;
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') {
      out += ',' + newline();
    } else if (c === ':') {
      out += ': ';
    } else {
      out += c;
    }
  }
  return out;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return null;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function badge(status) {
  return h('span', { class: `badge ${status}`, text: status.replace('_', ' ') });
}

/** Disables a button while an async action runs. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}
