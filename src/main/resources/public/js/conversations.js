// Past conversations of the workspace, newest first.
import { h, when } from './dom.js';

export async function conversationList({ api, main }) {
  document.title = 'Conversations · Aryabhatta';
  const [page, agents] = await Promise.all([api.get('/api/conversations?limit=100'), api.all('/api/agents')]);
  const names = new Map(agents.map(a => [a.id, a.name]));
  main.append(
    h('h1', {}, 'Conversations'),
    page.data.length === 0
      ? h('div', { class: 'panel muted' }, 'No conversations yet. Open an agent and send it a message.')
      : h('div', { class: 'panel' }, h('ul', { class: 'list', id: 'conversation-list' }, page.data.map(c =>
        h('li', { class: 'row spread' },
          h('span', {}, h('a', { href: `#/conversations/${encodeURIComponent(c.id)}` }, h('code', { text: names.get(c.agent_id) ?? 'deleted agent' })),
            Object.keys(c.variables || {}).length
              ? h('span', { class: 'muted small' }, ' ', Object.entries(c.variables).map(([k, v]) => `${k}=${v}`).join(', '))
              : null),
          h('span', { class: 'muted small', text: when(c.created_at) }))))),
    page.next_cursor ? h('p', { class: 'muted small', text: 'Showing the latest 100.' }) : null);
}
