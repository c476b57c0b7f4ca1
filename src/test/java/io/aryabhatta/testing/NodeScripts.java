package io.aryabhatta.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Node peers of the Java tests in {@code src/test/node} (the official OpenAI and MCP SDKs):
 * their packages installed on first use, a script run with settings, what it printed read as JSON.
 * A test is skipped where Node is not installed.
 */
public final class NodeScripts {
  public static final Path PROJECT = Path.of("src", "test", "node");
  private static final Duration INSTALL = Duration.ofMinutes(3);
  private static final Duration SCRIPT = Duration.ofMinutes(2);

  private NodeScripts() {}

  /** Skips the calling test without Node; runs {@code npm ci} when {@code packageDir} is not installed. */
  public static void assumeInstalled(String packageDir) throws Exception {
    Assumptions.assumeTrue(commandWorks("node", "--version"), "node is not installed");
    if (!Files.isDirectory(PROJECT.resolve("node_modules").resolve(packageDir))) {
      Assumptions.assumeTrue(commandWorks("npm", "--version"), "npm is not installed");
      run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), INSTALL);
    }
  }

  /** Runs {@code script} with {@code env}; fails the test unless it exits 0 in time. */
  public static JsonNode runJson(String script, Map<String, String> env) throws Exception {
    return Http.JSON.readTree(run(List.of("node", script), env, SCRIPT));
  }

  private static String run(List<String> command, Map<String, String> env, Duration timeout) throws Exception {
    Path stdout = Files.createTempFile("node-stdout", ".txt");
    Path stderr = Files.createTempFile("node-stderr", ".txt");
    try {
      ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).directory(PROJECT.toFile())
          .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
      builder.environment().putAll(env);
      Process process = builder.start();
      if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(command + " did not finish within " + timeout);
      }
      if (process.exitValue() != 0) {
        throw new AssertionError(command + " exited with " + process.exitValue() + ":\n"
            + Files.readString(stderr) + Files.readString(stdout));
      }
      return Files.readString(stdout, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command, e);
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  public static boolean commandWorks(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
