// Connects to Aryabhatta's MCP server (/mcp) with the official MCP TypeScript SDK client, lists
// the tools and makes the calls asked for, and prints what it saw as one JSON object. Run by
// io.aryabhatta.mcpserver.AgentsAsMcpServerTest.
//
// Environment: ARYABHATTA_BASE_URL, ARYABHATTA_KEY (the bearer token), CALLS (a JSON array of
// {"name": ..., "arguments": {...}}, made in order).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const url = new URL(process.env.ARYABHATTA_BASE_URL + '/mcp');
const calls = JSON.parse(process.env.CALLS ?? '[]');

function describeError(e) {
  return { class: e.constructor.name, code: e.code ?? null, message: e.message };
}

async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}

const client = new Client({ name: 'aryabhatta-test', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(url, {
  requestInit: { headers: { Authorization: `Bearer ${process.env.ARYABHATTA_KEY}` } },
});
const out = {};
const connected = await attempt(() => client.connect(transport));
out.connect = connected.ok ? { ok: true } : connected;
if (connected.ok) {
  out.server = client.getServerVersion();
  out.capabilities = client.getServerCapabilities();
  out.instructions = client.getInstructions() ?? null;
  out.tools = await attempt(() => client.listTools());
  out.calls = [];
  for (const call of calls) {
    out.calls.push(await attempt(() => client.callTool({ name: call.name, arguments: call.arguments })));
  }
  await client.close();
}
process.stdout.write(JSON.stringify(out));
