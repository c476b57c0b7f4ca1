// The HTTP API, as the playground uses it: JSON in and out, problem JSON turned into ApiError,
// and run event streams read with fetch (EventSource cannot send an Authorization header).

/** A failed API call, carrying the problem JSON's detail and field errors. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || (status ? `HTTP ${status}` : 'Network error');
    this.detail = problem.detail || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = problem.request_id || null;
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  get(path) { return this.request('GET', path); }
  post(path, body) { return this.request('POST', path, body); }
  patch(path, body) { return this.request('PATCH', path, body); }
  delete(path) { return this.request('DELETE', path); }

  /** Sends one request; resolves to the parsed JSON body (null for 204), rejects with ApiError. */
  async request(method, path, body) {
    const response = await this.#fetch(method, path, body, 'application/json');
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  /** A GET's body as the server wrote it, for what must be shown exactly (see raw-json.js). */
  async getText(path) {
    return (await this.#fetch('GET', path, undefined, 'application/json')).text();
  }

  /** Every item of a list, following next_cursor (at most `max` items). */
  async all(path, max = 1000) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.get(`${path}${sep}limit=200${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && items.length < max);
    return items;
  }

  /**
   * Sends a request whose answer is a run's event stream and calls onEvent({id, type, data}) for
   * each event until the stream ends. Resolves to the last event id seen.
   */
  async stream(method, path, body, onEvent, signal) {
    const response = await this.#fetch(method, path, body, 'text/event-stream', signal);
    return readEvents(response.body, onEvent);
  }

  async #fetch(method, path, body, accept, signal) {
    const headers = { Accept: accept, Authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, { title: 'Network error', detail: `cannot reach the server (${e.message})` });
    }
    if (!response.ok) throw await problemOf(response);
    return response;
  }
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const json = JSON.parse(text);
    if (json && typeof json === 'object') return new ApiError(response.status, json);
  } catch { /* not JSON: fall through */ }
  return new ApiError(response.status, { title: `HTTP ${response.status}`, detail: text.slice(0, 300) });
}

/** Parses Server-Sent Events from a byte stream. */
export async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let lastId = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) {
        lastId = event.id ?? lastId;
        onEvent(event);
      }
    }
  }
  return lastId;
}

function parseBlock(block) {
  let id = null;
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = Number(value);
    else if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { id, type, data: parsed };
}
