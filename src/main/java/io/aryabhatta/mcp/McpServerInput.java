package io.aryabhatta.mcp;

import java.util.Map;

/**
 * An MCP server as a client writes it.
 *
 * @param url the server's streamable HTTP endpoint, e.g. {@code https://mcp.example.com/mcp}
 * @param headers sent on every request; values may use {@code {{secret.NAME}}}
 * @param timeoutMs bound of the connection, the handshake and each request (default 30000)
 */
public record McpServerInput(String name, String url, Map<String, String> headers, Integer timeoutMs) {}
