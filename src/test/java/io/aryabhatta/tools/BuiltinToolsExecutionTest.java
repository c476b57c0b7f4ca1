package io.aryabhatta.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class BuiltinToolsExecutionTest {
  private final ObjectMapper mapper = Json.mapper();
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-25T10:15:30.250Z"), ZoneOffset.UTC);
  private final ToolExecutor executor = new ToolExecutor(new OkHttpClient(), mapper,
      (workspace, name) -> Optional.empty(), new AddressGuard(List.of()), clock);
  private final ToolContext context = new ToolContext("ws", "call-1");

  @Test
  void calculator_respects_precedence_and_associativity() {
    assertThat(calculate("2 + 3 * 4")).isEqualTo("14");
    assertThat(calculate("(2 + 3) * 4")).isEqualTo("20");
    assertThat(calculate("2 ^ 3 ^ 2")).isEqualTo("512");
    assertThat(calculate("-2 ^ 2")).isEqualTo("-4");
    assertThat(calculate("(-2) ** 2")).isEqualTo("4");
    assertThat(calculate("10 - 4 - 3")).isEqualTo("3");
    assertThat(calculate("17 % 5 + 2 × 3 ÷ 4")).isEqualTo("3.5");
    assertThat(calculate("--3 + +2")).isEqualTo("5");
  }

  @Test
  void calculator_is_exact_in_decimal() {
    assertThat(calculate("0.1 + 0.2")).isEqualTo("0.3");
    assertThat(calculate("1.10 * 3")).isEqualTo("3.3");
    assertThat(calculate("1e3 + 1.5E-2")).isEqualTo("1000.015");
    assertThat(calculate("2 ^ 100")).isEqualTo("1267650600228229401496703205376");
    assertThat(calculate("2 ^ -2")).isEqualTo("0.25");
    assertThat(calculate("123456789012345678901234567890 + 1")).isEqualTo("123456789012345678901234567891");
  }

  @Test
  void calculator_gives_34_significant_digits_when_no_finite_decimal_exists() {
    assertThat(calculate("1 / 3")).isEqualTo("0.3333333333333333333333333333333333");
    assertThat(calculate("2 / 3")).isEqualTo("0.6666666666666666666666666666666667");
    assertThat(calculate("sqrt(2)")).isEqualTo("1.414213562373095048801688724209698");
  }

  @Test
  void calculator_functions() {
    assertThat(calculate("sqrt(16) + abs(-2.5)")).isEqualTo("6.5");
    assertThat(calculate("round(2.5) + round(3.14159, 2)")).isEqualTo("6.14");
    assertThat(calculate("floor(-1.5) + ceil(1.2)")).isEqualTo("0");
  }

  @Test
  void calculator_reports_division_by_zero_with_its_position() {
    ToolOutcome outcome = calculator("1 + 4 / (2 - 2)");
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).contains("division by zero").contains("position 7");
    assertThat(calculator("5 % 0").result()).contains("division by zero");
    assertThat(calculator("0 ^ -1").result()).contains("division by zero");
  }

  @Test
  void calculator_reports_syntax_errors_with_their_position() {
    assertThat(calculator("2 + * 3").result()).contains("found '*'").contains("position 5");
    assertThat(calculator("(1 + 2").result()).contains("expected ')'");
    assertThat(calculator("1 2").result()).contains("unexpected '2'").contains("position 3");
    assertThat(calculator("").result()).contains("empty expression");
    assertThat(calculator("rm -rf /").result()).contains("unknown name 'rm'");
    assertThat(calculator("java.lang.System.exit(0)").ok()).isFalse();
    assertThat(calculator("sqrt(-1)").result()).contains("negative");
    assertThat(calculator("1..2").ok()).isFalse();
  }

  @Test
  void calculator_refuses_huge_work() {
    assertThat(calculator("10 ^ 100000").result()).contains("exponent must be between");
    assertThat(calculator("9 ^ 1000 * 9 ^ 1000").result()).contains("out of range");
    assertThat(calculator("1e999999999").result()).contains("out of range");
    assertThat(calculator("2 ^ 0.5").result()).contains("whole number");
    assertThat(calculator("(".repeat(400) + "1" + ")".repeat(400)).result()).contains("nested too deeply");
    assertThat(calculator("-".repeat(900) + "1").result()).contains("nested too deeply");
    assertThat(calculator("1+".repeat(600) + "1").result()).contains("too long");
  }

  @Test
  void calculator_without_an_expression_is_a_tool_error() {
    ToolOutcome outcome = executor.execute(builtin("calculator"), json("{\"expr\": \"1+1\"}"), context);
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).contains("expression");
  }

  @Test
  void current_time_defaults_to_utc() {
    JsonNode time = json(currentTime("{}").result());
    assertThat(time.get("timezone").asText()).isEqualTo("UTC");
    assertThat(time.get("iso").asText()).isEqualTo("2026-11-25T10:15:30Z");
    assertThat(time.get("unix").asLong()).isEqualTo(1_795_601_730L);
    assertThat(time.get("day_of_week").asText()).isEqualTo("Wednesday");
  }

  @Test
  void current_time_in_a_named_zone() {
    JsonNode kolkata = json(currentTime("{\"timezone\": \"Asia/Kolkata\"}").result());
    assertThat(kolkata.get("timezone").asText()).isEqualTo("Asia/Kolkata");
    assertThat(kolkata.get("iso").asText()).isEqualTo("2026-11-25T15:45:30+05:30");
    assertThat(kolkata.get("unix").asLong()).isEqualTo(1_795_601_730L);
    JsonNode newYork = json(currentTime("{\"timezone\": \"america/new_york\"}").result());
    assertThat(newYork.get("timezone").asText()).isEqualTo("America/New_York");
    assertThat(newYork.get("iso").asText()).isEqualTo("2026-11-25T05:15:30-05:00");
  }

  @Test
  void current_time_with_an_unknown_zone_is_a_tool_error_with_an_example() {
    ToolOutcome outcome = currentTime("{\"timezone\": \"Mars/Olympus_Mons\"}");
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).contains("unknown time zone 'Mars/Olympus_Mons'").contains("Asia/Kolkata");
  }

  @Test
  void unknown_builtin_is_a_tool_error() {
    ToolOutcome outcome = executor.execute(builtin("teleport"), json("{}"), context);
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).contains("unknown built-in tool 'teleport'");
  }

  @Test
  void non_object_arguments_are_a_tool_error() {
    ToolOutcome outcome = executor.execute(builtin("calculator"), json("[1]"), context);
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).contains("JSON object");
  }

  @Test
  void client_tools_are_not_executed_here() {
    ToolDefinition tool = new ToolDefinition("t1", "ws", "x", "client", "", json("{}"), null, false, false);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> executor.execute(tool, json("{}"), context))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void mcp_tools_are_a_tool_error_without_an_mcp_caller() {
    ToolDefinition tool = new ToolDefinition("t1", "ws", "x", "mcp", "", json("{}"), null, false, false);
    ToolOutcome outcome = executor.execute(tool, json("{}"), context);
    assertThat(outcome.ok()).isFalse();
    assertThat(outcome.result()).contains("MCP tools are not available");
  }

  @Test
  void an_in_process_tool_without_a_positive_timeout_is_refused() {
    InProcessTool.Handler handler = (arguments, context) -> ToolOutcome.success("ok", null, 0);
    for (Duration timeout : Arrays.asList(Duration.ZERO, Duration.ofSeconds(-1), null)) {
      InProcessTool tool = new InProcessTool("lookup", "", json("{\"type\": \"object\"}"), false, false, timeout,
          handler);
      assertThatThrownBy(() -> new BuiltinTools(mapper, List.of(tool))).as("timeout %s", timeout)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive timeout");
    }
  }

  private String calculate(String expression) {
    ToolOutcome outcome = calculator(expression);
    assertThat(outcome.ok()).as(outcome.result()).isTrue();
    return outcome.result();
  }

  private ToolOutcome calculator(String expression) {
    return executor.execute(builtin("calculator"), mapper.createObjectNode().put("expression", expression), context);
  }

  private ToolOutcome currentTime(String arguments) {
    return executor.execute(builtin("current_time"), json(arguments), context);
  }

  private static ToolDefinition builtin(String name) {
    return new ToolDefinition(null, null, name, "builtin", "", null, null, true, false);
  }

  private JsonNode json(String text) {
    return Json.read(mapper, text);
  }
}
