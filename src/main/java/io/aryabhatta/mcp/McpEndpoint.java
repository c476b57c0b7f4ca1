package io.aryabhatta.mcp;

import java.time.Duration;
import java.util.Map;

/**
 * Where and how to reach one MCP server for one operation.
 *
 * @param serverName the server's name in the workspace, for messages
 * @param headers header values with secrets already filled in; never shown anywhere
 * @param timeout the longest a connection, the handshake or one request may take
 */
public record McpEndpoint(String serverName, String url, Map<String, String> headers, Duration timeout) {
  @Override
  public String toString() {
    return "McpEndpoint[" + serverName + " " + url + ", headers " + headers.keySet() + ", timeout " + timeout + "]";
  }
}
