package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.MDC;

/**
 * Calls an {@link InProcessTool}'s handler on a virtual thread of its own and waits at most the
 * tool's timeout, so a hung function cannot hold a run (and its lease) forever.
 */
final class InProcessRunner {
  private InProcessRunner() {}

  /**
   * The handler's outcome; when it has not returned in time, its thread is interrupted and the
   * outcome is unknown, since a function that did not return may have had its effect.
   *
   * <p>If the calling thread is interrupted while waiting (a cancel), the handler's thread is
   * interrupted too, and a cancelled error is returned with the caller's interrupt flag set again.
   */
  static ToolOutcome run(InProcessTool tool, JsonNode arguments, ToolContext context) {
    CompletableFuture<ToolOutcome> result = new CompletableFuture<>();
    Map<String, String> logContext = MDC.getCopyOfContextMap();
    Thread handler = Thread.ofVirtual().name("tool-" + tool.name()).start(() -> {
      // The function's log lines keep the caller's context (the run's id), as on the caller's thread.
      if (logContext != null) {
        MDC.setContextMap(logContext);
      }
      try {
        result.complete(tool.handler().call(arguments, context));
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    });
    try {
      return result.get(tool.timeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      handler.interrupt();
      return ToolOutcome.unknown("outcome unknown: the tool did not return within " + tool.timeout().toMillis()
          + " ms; it may still be running, and may have had its effect or have it later", null, 0);
    } catch (InterruptedException e) {
      handler.interrupt();
      return ToolExecutor.cancelled();
    } catch (ExecutionException e) {
      throw asUnchecked(e.getCause());
    }
  }

  /** The handler's own exception, thrown on as if it had run on the calling thread. */
  private static RuntimeException asUnchecked(Throwable failure) {
    return switch (failure) {
      case RuntimeException e -> e;
      case Error e -> throw e;
      default -> new IllegalStateException(failure);
    };
  }
}
