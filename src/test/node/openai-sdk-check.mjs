// Drives Aryabhatta's OpenAI-compatible API with the official `openai` SDK, unchanged, and prints
// what it saw as one JSON object. Run by io.aryabhatta.openai.OpenAiCompatibleApiTest, which
// scripts the fake model's replies in the order of the cases below.
//
// Environment: ARYABHATTA_BASE_URL, ARYABHATTA_KEY, CALC_MODEL (an agent with the calculator tool).
import OpenAI from 'openai';

const baseURL = process.env.ARYABHATTA_BASE_URL + '/v1';
const client = new OpenAI({ baseURL, apiKey: process.env.ARYABHATTA_KEY });
const model = process.env.CALC_MODEL;

function describeError(e) {
  return {
    class: e.constructor.name,
    is_api_error: e instanceof OpenAI.APIError,
    status: e.status ?? null,
    type: e.type ?? null,
    code: e.code ?? null,
    param: e.param ?? null,
    message: e.message,
  };
}

async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}

const out = {};

// 1. Agents as models.
const models = await client.models.list();
out.models = { ids: models.data.map((m) => m.id), first: models.data[0] };
out.model = await client.models.retrieve(model);

// 2. Non-streaming, with a server-side calculator call in between (fake: tool call, then text).
const completion = await client.chat.completions.create({
  model,
  messages: [
    { role: 'system', content: 'Answer in one sentence.' },
    { role: 'user', content: 'What is 6 * 7?' },
  ],
  temperature: 0.2,
});
out.completion = completion;

// 3. Streaming with usage (fake: tool call, then text streamed in pieces).
const stream = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'What is 2 + 3?' }],
  stream: true,
  stream_options: { include_usage: true },
});
const chunks = [];
for await (const chunk of stream) {
  chunks.push(chunk);
}
out.stream = {
  chunks: chunks.length,
  objects: [...new Set(chunks.map((c) => c.object))],
  ids: [...new Set(chunks.map((c) => c.id))],
  role: chunks[0]?.choices[0]?.delta?.role ?? null,
  content_chunks: chunks.filter((c) => c.choices[0]?.delta?.content).length,
  content: chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''),
  finish_reason: chunks.map((c) => c.choices[0]?.finish_reason).find((r) => r) ?? null,
  usage_chunk: chunks.filter((c) => c.choices.length === 0 && c.usage).map((c) => c.usage)[0] ?? null,
  last_is_usage: chunks.length > 0 && chunks[chunks.length - 1].choices.length === 0,
};

// 4. A conversation the client keeps itself: earlier turns go to the model (fake: text).
out.multi_turn = await client.chat.completions.create({
  model,
  messages: [
    { role: 'user', content: 'Remember the number 17.' },
    { role: 'assistant', content: 'Noted: 17.' },
    { role: 'user', content: [{ type: 'text', text: 'Which number?' }] },
  ],
});

// 5. Errors in OpenAI's shape, raised as the SDK's own classes.
out.unknown_model = await attempt(() =>
  client.chat.completions.create({ model: 'no-such-agent', messages: [{ role: 'user', content: 'hi' }] }));
out.bad_key = await attempt(() =>
  new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 }).models.list());
out.bad_request = await attempt(() => client.chat.completions.create({ model, messages: [] }));

// 6. A run that fails (fake: the provider rejects the key): an error, and the SDK does not retry.
out.failed_run = await attempt(() =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'fail please' }] }));

// 7. The same failure while streaming: an error chunk the SDK raises mid-stream.
out.failed_stream = await attempt(async () => {
  const s = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'fail while streaming' }], stream: true,
  });
  let text = '';
  for await (const chunk of s) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  return text;
});

process.stdout.write(JSON.stringify(out));
