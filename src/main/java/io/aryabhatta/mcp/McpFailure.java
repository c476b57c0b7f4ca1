package io.aryabhatta.mcp;

/** An MCP operation that did not produce an answer; the message is meant for users and models. */
public final class McpFailure extends Exception {
  /** Why the operation failed, which decides how the API reports it. */
  public enum Kind {
    /** The address guard refused the server's address (SSRF protection). */
    BLOCKED,
    /** No connection, a refused or broken one, an HTTP error status, or an unresolvable host. */
    UNREACHABLE,
    /** The server did not answer in time. */
    TIMEOUT,
    /** The server answered with a JSON-RPC error. */
    ERROR,
    /** The calling thread was interrupted (the run was cancelled). */
    INTERRUPTED
  }

  private final Kind kind;
  private final boolean outcomeUnknown;

  /** A failure known to have had no effect on the server. */
  public McpFailure(Kind kind, String message) {
    this(kind, message, false);
  }

  private McpFailure(Kind kind, String message, boolean outcomeUnknown) {
    super(message, null, false, false);
    this.kind = kind;
    this.outcomeUnknown = outcomeUnknown;
  }

  /** A failure after the request was sent: nobody knows whether the server acted on it. */
  static McpFailure outcomeUnknown(Kind kind, String message) {
    return new McpFailure(kind, message, true);
  }

  public Kind kind() {
    return kind;
  }

  /**
   * Whether the server may have received the request and acted on it: a {@code tools/call} that
   * was sent and then timed out or lost its connection.
   */
  public boolean outcomeUnknown() {
    return outcomeUnknown;
  }
}
