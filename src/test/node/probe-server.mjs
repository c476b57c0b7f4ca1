// A small MCP server (streamable HTTP, stateless) for the tests of what server-everything cannot
// show: the _meta and headers a call carries, tools that fail, hang, answer with a JSON-RPC error
// or crash the server mid-call, and a tool list that changes between two listings (read from
// TOOLS_FILE on every request).
//
//   PORT=8123 TOOLS_FILE=tools.json node probe-server.mjs
//
// TOOLS_FILE: [{"name": "...", "description": "...",
//               "behaviour": "whoami" | "fail" | "hang" | "reject" | "exit"}]
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";

const toolsFile = process.env.TOOLS_FILE;
const tools = () => JSON.parse(readFileSync(toolsFile, "utf8"));
const inputSchema = {
  type: "object",
  properties: { text: { type: "string", description: "any text" } },
};

function mcpServer() {
  const server = new Server({ name: "probe", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools().map((t) => ({ name: t.name, description: t.description, inputSchema })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = tools().find((t) => t.name === request.params.name);
    if (!tool) {
      return { content: [{ type: "text", text: `no tool ${request.params.name}` }], isError: true };
    }
    if (tool.behaviour === "hang") {
      await new Promise(() => {});
    }
    if (tool.behaviour === "exit") {
      // A crash after the call arrived: the connection drops with no answer.
      process.exit(1);
    }
    if (tool.behaviour === "reject") {
      throw new McpError(ErrorCode.InvalidParams, `rejected on purpose: ${request.params.arguments?.text}`);
    }
    if (tool.behaviour === "fail") {
      return { content: [{ type: "text", text: `failed on purpose: ${request.params.arguments?.text}` }], isError: true };
    }
    const headers = extra.requestInfo?.headers ?? {};
    const seen = {
      meta: request.params._meta ?? null,
      arguments: request.params.arguments ?? null,
      authorization: headers["authorization"] ?? null,
      x_team: headers["x-team"] ?? null,
    };
    return { content: [{ type: "text", text: JSON.stringify(seen) }] };
  });
  return server;
}

const http = createServer(async (req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405, { Allow: "POST" }).end();
    return;
  }
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
});
http.listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.error(`probe MCP server listening on port ${process.env.PORT}`);
});
