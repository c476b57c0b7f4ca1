// The playground: sign in, then hash routes for agents, tools, conversations, runs and evaluations.
import { Api, ApiError } from './api.js';
import { h, clear, problemBox, busy } from './dom.js';
import { agentList, agentEditor } from './agents.js';
import { toolList, toolEditor } from './tools.js';
import { chat } from './chat.js';
import { conversationList } from './conversations.js';
import { chunkPage } from './citations.js';
import { runInspector, runComparison } from './inspector.js';
import { evaluationsPage } from './evaluations.js';

const KEY = 'aryabhatta.api_key';
const main = document.getElementById('main');
const topbar = document.getElementById('topbar');

const routes = [
  [/^#\/agents\/?$/, 'agents', (ctx) => agentList(ctx)],
  [/^#\/agents\/new$/, 'agents', (ctx) => agentEditor(ctx, null)],
  [/^#\/agents\/([^/]+)$/, 'agents', (ctx, id) => agentEditor(ctx, id)],
  [/^#\/agents\/([^/]+)\/evaluations$/, 'agents', (ctx, id) => evaluationsPage(ctx, id)],
  [/^#\/tools\/?$/, 'tools', (ctx) => toolList(ctx)],
  [/^#\/tools\/new$/, 'tools', (ctx) => toolEditor(ctx, null)],
  [/^#\/tools\/([^/]+)$/, 'tools', (ctx, id) => toolEditor(ctx, id)],
  [/^#\/chat\/([^/]+)$/, 'agents', (ctx, agentId) => chat(ctx, { agentId })],
  [/^#\/conversations\/?$/, 'conversations', (ctx) => conversationList(ctx)],
  [/^#\/conversations\/([^/]+)$/, 'conversations', (ctx, conversationId) => chat(ctx, { conversationId })],
  [/^#\/runs\/([^/]+)$/, 'conversations', (ctx, runId) => runInspector(ctx, runId)],
  [/^#\/compare\/([^/]+)\/([^/]+)$/, 'conversations', (ctx, original, fork) => runComparison(ctx, original, fork)],
  [/^#\/chunks\/([^/]+)$/, 'conversations', (ctx, chunkId) => chunkPage(ctx, chunkId)],
];

// Whatever a view started (streams, timers) is stopped when the user leaves it.
let leaving = [];

function render() {
  leaving.forEach(stop => stop());
  leaving = [];
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    topbar.hidden = true;
    signIn();
    return;
  }
  topbar.hidden = false;
  const hash = location.hash || '#/agents';
  const match = routes.map(([re, section, view]) => ({ m: hash.match(re), section, view })).find(r => r.m);
  if (!match) {
    location.replace('#/agents');
    return;
  }
  document.querySelectorAll('.nav a').forEach(a => a.classList.toggle('active', a.dataset.section === match.section));
  // Each render draws into a container of its own: a view still loading when the next render
  // starts then fills a container no longer on the page, instead of adding to the new one.
  const view = h('div', { class: 'view' });
  clear(main, view);
  const ctx = {
    api: new Api(key),
    main: view,
    go: (hashRoute) => { location.hash = hashRoute; },
    onLeave: (stop) => leaving.push(stop),
  };
  Promise.resolve(match.view(ctx, ...match.m.slice(1).map(decodeURIComponent))).catch(error => {
    if (error instanceof ApiError && error.status === 401) {
      signOut('Your API key was not accepted: ' + error.detail);
      return;
    }
    if (error.name === 'AbortError') return;
    view.append(problemBox(error));
  });
}

function signIn(message) {
  document.title = 'Sign in · Aryabhatta';
  const input = h('input', { type: 'password', id: 'api-key', autocomplete: 'off', placeholder: 'ary_…', required: true });
  const slot = h('div', { id: 'signin-error' }, message ? problemBox({ title: 'Signed out', detail: message }) : null);
  const button = h('button', { type: 'submit', class: 'primary', id: 'sign-in' }, 'Sign in');
  const form = h('form', {
    class: 'panel stack',
    onSubmit: async (e) => {
      e.preventDefault();
      clear(slot);
      const key = input.value.trim();
      if (!key) {
        slot.append(problemBox({ detail: 'Enter an API key.' }));
        return;
      }
      await busy(button, async () => {
        try {
          await new Api(key).get('/api/agents?limit=1');
          sessionStorage.setItem(KEY, key);
          // Changing the hash renders (hashchange); render here only when it stays the same.
          if (!location.hash || location.hash === '#/') {
            location.hash = '#/agents';
          } else {
            render();
          }
        } catch (error) {
          slot.append(problemBox(error));
        }
      });
    },
  },
  h('label', { for: 'api-key' }, 'API key'),
  input,
  h('p', { class: 'hint' }, 'The admin key printed at first start, or a workspace key. It is kept in this tab only (sessionStorage) and sent as a Bearer token.'),
  slot,
  h('div', { class: 'row' }, button));
  clear(main, h('section', { class: 'signin' },
    h('h1', {}, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'), 'Aryabhatta playground'),
    h('p', { class: 'muted' }, 'Build agents, give them tools, and test them in a conversation.'),
    form));
  input.focus();
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  topbar.hidden = true;
  leaving.forEach(stop => stop());
  leaving = [];
  signIn(message);
}

document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', render);
render();
