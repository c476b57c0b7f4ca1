// The passages a run's answer cites ([chunk:<id>]), as its knowledge searches recorded them, shown
// as links to each chunk; and the chunk's own page (#/chunks/{id}).
import { h, clear } from './dom.js';

const enc = encodeURIComponent;

/** A "Sources" list for a completed run, or nothing when its answer cites no passage. */
export async function citationsOf(api, runId) {
  const { data } = await api.get(`/api/runs/${enc(runId)}/citations`);
  if (!data.length) return null;
  return h('div', { class: 'citations' },
    h('div', { class: 'label', text: 'Sources' }),
    h('ol', {}, ...data.map(c => h('li', {},
      h('a', { class: 'citation', href: `#/chunks/${enc(c.chunk_id)}` }, placeOf(c)),
      h('span', { class: 'muted', text: ` · ${c.knowledge_base}` })))));
}

function placeOf(c) {
  const where = [c.document, ...(c.heading_path || [])].join(' › ');
  return c.page ? `${where} (page ${c.page})` : where;
}

export async function chunkPage(ctx, id) {
  const chunk = await ctx.api.get(`/api/knowledge_chunks/${enc(id)}`);
  document.title = `${chunk.document_name} · Aryabhatta`;
  ctx.main.append(
    h('h1', {}, chunk.document_name),
    h('section', { class: 'panel stack', id: 'chunk' },
      h('div', { class: 'muted', text: [chunk.knowledge_base, ...(chunk.heading_path || [])].join(' › ')
        + (chunk.page ? ` · page ${chunk.page}` : '') + ` · chunk ${chunk.position + 1}` }),
      h('div', { class: 'chunk-text', text: chunk.text })));
}

/** Fills `slot` with the run's sources once it has completed; a failed read shows nothing. */
export function showCitations(api, run, slot) {
  if (!run || run.status !== 'completed' || !slot) return;
  citationsOf(api, run.id).then(list => clear(slot, list)).catch(() => {});
}
