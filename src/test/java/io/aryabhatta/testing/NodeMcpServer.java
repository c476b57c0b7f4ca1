package io.aryabhatta.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real MCP server (streamable HTTP) in a node process on a free loopback port: the published
 * {@code @modelcontextprotocol/server-everything}, or {@code probe-server.mjs}. Both live in
 * {@code src/test/node}, installed from its lock file on first use.
 */
public final class NodeMcpServer implements AutoCloseable {
  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

  private final Process process;
  private final int port;
  private final Path log;

  private NodeMcpServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Whether {@code node} runs here; the MCP tests need it. */
  public static boolean nodeAvailable() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** {@code server-everything} in its streamable HTTP mode; its endpoint is {@code /mcp}. */
  public static NodeMcpServer everything() {
    return start(List.of("node", "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
        "streamableHttp"), Map.of());
  }

  /** {@code probe-server.mjs}, serving the tools listed in {@code toolsFile} (read on every request). */
  public static NodeMcpServer probe(Path toolsFile) {
    return start(List.of("node", "probe-server.mjs"), Map.of("TOOLS_FILE", toolsFile.toAbsolutePath().toString()));
  }

  public String url() {
    return "http://127.0.0.1:" + port + "/mcp";
  }

  /** Kills the process at once, as a crash would. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    kill();
  }

  private static NodeMcpServer start(List<String> command, Map<String, String> env) {
    ensureInstalled();
    int port = freePort();
    try {
      Path log = Files.createTempFile("mcp-server-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command).directory(NODE_DIR.toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().put("PORT", String.valueOf(port));
      builder.environment().putAll(env);
      NodeMcpServer server = new NodeMcpServer(builder.start(), port, log);
      server.awaitListening();
      return server;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + command, e);
    }
  }

  private void awaitListening() throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("MCP server exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        AgentSetup.sleep(100);
      }
    }
    kill();
    throw new IllegalStateException("MCP server did not listen within " + START_TIMEOUT + ": " + Files.readString(log));
  }

  /** Installs the node packages from the committed lock file when they are missing (a fresh clone). */
  private static synchronized void ensureInstalled() {
    if (Files.exists(NODE_DIR.resolve("node_modules/@modelcontextprotocol/server-everything/package.json"))
        && Files.exists(NODE_DIR.resolve("node_modules/@modelcontextprotocol/sdk/package.json"))) {
      return;
    }
    try {
      Path log = Files.createTempFile("npm-ci-", ".log");
      Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(NODE_DIR.toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!npm.waitFor(INSTALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        npm.destroyForcibly();
        throw new IllegalStateException("npm ci in " + NODE_DIR + " took longer than " + INSTALL_TIMEOUT);
      }
      if (npm.exitValue() != 0) {
        throw new IllegalStateException("npm ci in " + NODE_DIR + " failed: "
            + Files.readString(log, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run npm ci in " + NODE_DIR, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A loopback port that nothing listens on right now. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
