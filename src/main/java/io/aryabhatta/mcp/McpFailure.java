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

  public McpFailure(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
