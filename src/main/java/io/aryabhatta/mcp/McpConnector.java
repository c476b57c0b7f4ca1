package io.aryabhatta.mcp;

import io.aryabhatta.tools.AddressGuard;
import io.aryabhatta.tools.AddressGuard.BlockedAddressException;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Implementation;
import io.modelcontextprotocol.spec.McpSchema.ListToolsResult;
import io.modelcontextprotocol.spec.McpSchema.Tool;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import okhttp3.HttpUrl;

/**
 * Talks to MCP servers over streamable HTTP through the official MCP Java SDK. Each operation is
 * one short session (initialize, request, close), so a server that restarts or forgets sessions
 * costs nothing, and nothing is held open between tool calls.
 *
 * <p>Every connection is bounded: connect, handshake and each request time out after the
 * endpoint's timeout; redirects are not followed and no proxy is used; the server's address must
 * pass the same {@link AddressGuard} as HTTP tools.
 */
public final class McpConnector {
  private static final Implementation CLIENT_INFO = new Implementation("aryabhatta", "1");
  private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final int MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
  private static final int MAX_TOOL_PAGES = 50;

  private final AddressGuard guard;

  public McpConnector(AddressGuard guard) {
    this.guard = guard;
  }

  /** Every tool the server lists, all pages. */
  public List<Tool> listTools(McpEndpoint endpoint) throws McpFailure {
    return withSession(endpoint, Effects.NONE, client -> {
      List<Tool> tools = new ArrayList<>();
      String cursor = null;
      int pages = 0;
      do {
        ListToolsResult page = cursor == null ? client.listTools() : client.listTools(cursor);
        if (page.tools() != null) {
          tools.addAll(page.tools());
        }
        cursor = page.nextCursor();
      } while (cursor != null && ++pages < MAX_TOOL_PAGES);
      return tools;
    });
  }

  /**
   * One {@code tools/call}. The idempotency key travels in the request's {@code _meta}, where an
   * MCP server can read it. A result with {@code isError} is returned, not thrown.
   *
   * @throws McpFailure whose {@link McpFailure#outcomeUnknown} says whether the server may have
   *     received the call: true for a timeout or a broken connection once the call was sent; false
   *     when the session could not be set up, the connection was refused, or the server answered
   *     with a JSON-RPC error
   */
  public CallToolResult callTool(McpEndpoint endpoint, String toolName, Map<String, Object> arguments,
      String idempotencyKey) throws McpFailure {
    Map<String, Object> meta = idempotencyKey == null ? null : Map.of("idempotency_key", idempotencyKey);
    return withSession(endpoint, Effects.MAY_ACT,
        client -> client.callTool(new CallToolRequest(toolName, arguments, meta)));
  }

  /** Whether the request made once the session is set up may change something on the server. */
  private enum Effects { NONE, MAY_ACT }

  private <T> T withSession(McpEndpoint endpoint, Effects effects, Function<McpSyncClient, T> work)
      throws McpFailure {
    checkAddress(endpoint);
    McpSyncClient client = null;
    boolean initialized = false;
    boolean answered = false;
    try {
      client = McpClient.sync(transport(endpoint))
          .clientInfo(CLIENT_INFO)
          .requestTimeout(endpoint.timeout())
          .initializationTimeout(endpoint.timeout())
          .build();
      client.initialize();
      initialized = true;
      T result = work.apply(client);
      answered = true;
      return result;
    } catch (RuntimeException e) {
      throw failure(endpoint, e, initialized && effects == Effects.MAY_ACT);
    } finally {
      // A server that answered gets a proper session end; one that did not is simply dropped,
      // so a dead or hanging server cannot hold the caller any longer.
      if (client != null && answered) {
        client.closeGracefully();
      } else if (client != null) {
        client.close();
      }
    }
  }

  private static HttpClientStreamableHttpTransport transport(McpEndpoint endpoint) {
    URI uri = URI.create(endpoint.url());
    String base = uri.getScheme() + "://" + uri.getRawAuthority();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    Duration connectTimeout = endpoint.timeout().compareTo(MAX_CONNECT_TIMEOUT) < 0
        ? endpoint.timeout() : MAX_CONNECT_TIMEOUT;
    return HttpClientStreamableHttpTransport.builder(base)
        .endpoint(path)
        .clientBuilder(HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(connectTimeout))
        .requestBuilder(HttpRequest.newBuilder().timeout(endpoint.timeout()))
        .httpRequestCustomizer((request, method, target, body, context) ->
            endpoint.headers().forEach(request::setHeader))
        .maxResponseSize(MAX_RESPONSE_BYTES)
        .build();
  }

  /**
   * The JDK HTTP client the SDK uses has no DNS hook, so the host is resolved and checked here
   * first; the connection then normally uses the JDK's cached answer (30 s by default), the one
   * just checked. Unlike HTTP tools, a DNS answer that changes within that moment is not caught.
   */
  private void checkAddress(McpEndpoint endpoint) throws McpFailure {
    HttpUrl url = HttpUrl.parse(endpoint.url());
    if (url == null) {
      throw new McpFailure(McpFailure.Kind.UNREACHABLE, "'" + endpoint.url() + "' is not an http or https URL");
    }
    try {
      guard.checkUrl(url);
      String host = url.host();
      boolean literal = host.contains(":") || host.matches("[\\d.]+");
      if (!literal) {
        guard.lookup(host);
      }
    } catch (BlockedAddressException e) {
      throw new McpFailure(McpFailure.Kind.BLOCKED, e.getMessage().replace("HTTP tools", "MCP servers"));
    } catch (UnknownHostException e) {
      throw new McpFailure(McpFailure.Kind.UNREACHABLE,
          "cannot resolve the host of MCP server '" + endpoint.serverName() + "': " + url.host());
    }
  }

  /**
   * @param requestSent whether a request that may act was handed to the transport: then only a
   *     connection that never opened proves it did not reach the server
   */
  private static McpFailure failure(McpEndpoint endpoint, RuntimeException e, boolean requestSent) {
    String server = "MCP server '" + endpoint.serverName() + "'";
    if (has(e, InterruptedException.class) || Thread.currentThread().isInterrupted()) {
      return new McpFailure(McpFailure.Kind.INTERRUPTED, "cancelled: the call to " + server + " was interrupted");
    }
    McpError error = find(e, McpError.class);
    if (error != null) {
      // The SDK's client session raises McpError only for a JSON-RPC error response: the server's answer.
      String message = error.getJsonRpcError() != null ? error.getJsonRpcError().message() : error.getMessage();
      return new McpFailure(McpFailure.Kind.ERROR, server + " answered with an error: " + message);
    }
    boolean connectFailed = has(e, ConnectException.class) || has(e, HttpConnectTimeoutException.class);
    if (requestSent && !connectFailed) {
      McpFailure.Kind kind = timedOut(e) ? McpFailure.Kind.TIMEOUT : McpFailure.Kind.UNREACHABLE;
      String what = kind == McpFailure.Kind.TIMEOUT
          ? "it did not answer within " + endpoint.timeout().toMillis() + " ms"
          : "the connection failed: " + describe(rootCause(e));
      return McpFailure.outcomeUnknown(kind,
          "outcome unknown: the call may have reached " + server + " (" + what + ")");
    }
    if (timedOut(e)) {
      return new McpFailure(McpFailure.Kind.TIMEOUT,
          server + " did not answer within " + endpoint.timeout().toMillis() + " ms");
    }
    if (connectFailed) {
      return new McpFailure(McpFailure.Kind.UNREACHABLE,
          "could not connect to " + server + " at " + endpoint.url() + " (connection refused or unreachable)");
    }
    return new McpFailure(McpFailure.Kind.UNREACHABLE,
        server + " at " + endpoint.url() + " failed: " + describe(rootCause(e)));
  }

  private static boolean timedOut(RuntimeException e) {
    return has(e, TimeoutException.class) || has(e, HttpTimeoutException.class)
        || String.valueOf(e.getMessage()).startsWith("Timeout on blocking read");
  }

  private static boolean has(Throwable e, Class<? extends Throwable> type) {
    return find(e, type) != null;
  }

  private static <X extends Throwable> X find(Throwable e, Class<X> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      for (Throwable suppressed : t.getSuppressed()) {
        if (type.isInstance(suppressed)) {
          return type.cast(suppressed);
        }
      }
    }
    return null;
  }

  private static Throwable rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static String describe(Throwable t) {
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
  }
}
