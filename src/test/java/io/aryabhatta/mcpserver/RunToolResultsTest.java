package io.aryabhatta.mcpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunStatus;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A run still going when the call stops waiting (the end-to-end test cannot wait 50 s for it). */
class RunToolResultsTest {

  @Test
  void a_run_still_going_after_the_wait_is_a_tool_error_saying_it_goes_on() {
    for (RunStatus status : new RunStatus[] {RunStatus.QUEUED, RunStatus.RUNNING}) {
      CallToolResult result = RunToolResults.of(run("run-123", status), Duration.ofSeconds(50));

      assertThat(result.isError()).isTrue();
      assertThat(((TextContent) result.content().get(0)).text())
          .contains("did not finish within 50 s", "it goes on", "run run-123", "GET /api/runs/run-123");
      assertThat(result.meta()).containsEntry("run_id", "run-123");
    }
  }

  @Test
  void a_completed_run_is_its_output_and_no_error() {
    Run run = new Run("run-7", "c", "a", 1, RunStatus.COMPLETED, "Done.", null, null, 1, null, Instant.now(),
        Instant.now(), Instant.now(), null, null);

    CallToolResult result = RunToolResults.of(run, Duration.ofSeconds(50));

    assertThat(result.isError()).isFalse();
    assertThat(((TextContent) result.content().get(0)).text()).isEqualTo("Done.");
  }

  private static Run run(String id, RunStatus status) {
    return new Run(id, "c", "a", 1, status, null, null, null, 0, null, Instant.now(), Instant.now(), null, null, null);
  }
}
