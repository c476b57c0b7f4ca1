// Drives Aryabhatta's Responses API (`POST /v1/responses`) with the official `openai` SDK,
// unchanged, and prints what it saw as one JSON object. Run by
// io.aryabhatta.openai.ResponsesApiTest, which scripts the fake model's replies in the order of
// the cases below.
//
// Environment: ARYABHATTA_BASE_URL, ARYABHATTA_KEY, CALC_MODEL (an agent with the calculator
// tool), APPROVAL_MODEL (an agent whose tool needs approval).
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.ARYABHATTA_BASE_URL + '/v1', apiKey: process.env.ARYABHATTA_KEY });
const model = process.env.CALC_MODEL;

async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: { is_api_error: e instanceof OpenAI.APIError, status: e.status ?? null,
      code: e.code ?? null, param: e.param ?? null, message: e.message } };
  }
}

async function events(stream) {
  const all = [];
  for await (const event of stream) {
    all.push(event);
  }
  return all;
}

const out = {};

// 1. Plain, with a server-side calculator call (fake: calculator call, then text).
const plain = await client.responses.create({ model, input: 'What is 6 * 7?', instructions: 'Answer briefly.' });
out.plain = plain;
out.plain_output_text = plain.output_text;

// 2. Continued with previous_response_id (fake: text).
const next = await client.responses.create({ model, input: 'And doubled?', previous_response_id: plain.id });
out.next = next;
out.next_output_text = next.output_text;

// 3. Retrieved.
out.retrieved = await client.responses.retrieve(plain.id);

// 4. Streamed (fake: calculator call, then text in pieces).
out.stream = await events(await client.responses.create({ model, input: 'What is 2 + 3?', stream: true }));

// 5. Not stored: answered, but not retrievable (fake: text).
const unstored = await client.responses.create({ model, input: 'Hi', store: false });
out.unstored = unstored;
out.unstored_retrieve = await attempt(() => client.responses.retrieve(unstored.id));

// 6. A client function tool (fake: a get_weather call; then text once its output is sent).
const tools = [{ type: 'function', name: 'get_weather', description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
const asked = await client.responses.create({ model, input: 'Weather in Paris?', tools });
out.function_call = asked;
const call = asked.output.find((i) => i.type === 'function_call');
const answered = await client.responses.create({ model, previous_response_id: asked.id, tools,
  input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"sunny"}' }] });
out.function_answered = answered;
out.function_answered_text = answered.output_text;
out.function_call_again = await client.responses.retrieve(asked.id);
out.function_call_answered_twice = await attempt(() => client.responses.create({ model, previous_response_id: asked.id,
  input: [{ type: 'function_call_output', call_id: call.call_id, output: 'again' }] }));

// 6b. The same, streamed both ways (fake: a get_weather call; then text).
out.function_stream = await events(await client.responses.create({ model, input: 'Weather in Oslo?', tools,
  stream: true }));
const streamedCall = out.function_stream.at(-1).response.output.find((i) => i.type === 'function_call');
out.function_stream_answered = await events(await client.responses.create({ model, stream: true, tools,
  previous_response_id: out.function_stream.at(-1).response.id,
  input: [{ type: 'function_call_output', call_id: streamedCall.call_id, output: 'cold' }] }));

// 7. A tool that needs approval, approved by the client (fake: refund call; then text).
const approvalModel = process.env.APPROVAL_MODEL;
const pending = await client.responses.create({ model: approvalModel, input: 'Refund order 7' });
out.approval_request = pending;
const request = pending.output.find((i) => i.type === 'mcp_approval_request');
if (!request) { throw new Error('no approval request in ' + JSON.stringify(pending)); }
out.approved = await client.responses.create({ model: approvalModel, previous_response_id: pending.id,
  input: [{ type: 'mcp_approval_response', approval_request_id: request.id, approve: true }] });

// 8. Errors in OpenAI's shape: an unknown agent, a bad field, a failing model (fake: 401, twice).
out.unknown_model = await attempt(() => client.responses.create({ model: 'no-such-agent', input: 'x' }));
out.bad_input = await attempt(() => client.responses.create({ model, input: 42 }));
out.failed = await attempt(() => client.responses.create({ model, input: 'fail please' }));
out.failed_stream = await events(await client.responses.create({ model, input: 'fail again', stream: true }));
out.unknown_previous = await attempt(() => client.responses.create({ model, input: 'x',
  previous_response_id: 'resp_nope' }));

process.stdout.write(JSON.stringify(out));
