package io.aryabhatta.model;

import static io.aryabhatta.model.ModelTesting.ask;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.testing.FakeModelServer;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real providers' response shapes, replayed byte for byte from the recorded fixtures. */
class ModelClientQuirksTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private FakeModelServer fake;
  private final ModelClient client = ModelTesting.client();
  private final ModelTesting.Deltas deltas = new ModelTesting.Deltas();

  @BeforeEach
  void start() {
    fake = FakeModelServer.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private ChatResult replay(FakeModelServer.Reply reply, boolean stream) {
    fake.enqueue(reply);
    return client.complete(fake.endpoint(), ask("question", stream), deltas);
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  @Test
  void openai_non_streamed_parallel_tool_calls() {
    ChatResult result = replay(Fixtures.body("02_response_nonstream_tool_calls.json"), false);

    assertThat(result.toolCalls()).containsExactly(
        new ToolCall("call_7kQm2xYp4RZs9TnV", "get_weather", "{\"city\": \"Paris\"}"),
        new ToolCall("call_Lw3Hc8Jd1NqE5uXo", "get_time", "{\"tz\": \"Europe/Paris\"}"));
    assertThat(result.content()).isNull();
    assertThat(result.finishReason()).isEqualTo("tool_calls");
    assertThat(result.usage()).isEqualTo(new Usage(149, 48, 197));
    assertThat(result.response()).isEqualTo(Fixtures.json("02_response_nonstream_tool_calls.json"));
    assertThat(result.attempts()).singleElement().satisfies(a -> {
      assertThat(a.statusCode()).isEqualTo(200);
      assertThat(a.error()).isNull();
    });
  }

  @Test
  void streamed_tool_call_deltas_split_and_interleaved_by_index_with_name_only_first() {
    ChatResult result = replay(Fixtures.stream("03_stream_parallel_tool_calls_with_usage.sse"), true);

    assertThat(result.toolCalls()).containsExactly(
        new ToolCall("call_7kQm2xYp4RZs9TnV", "get_weather", "{\"city\": \"Paris\"}"),
        new ToolCall("call_Lw3Hc8Jd1NqE5uXo", "get_time", "{\"tz\": \"Europe/Paris\"}"));
    assertThat(result.finishReason()).isEqualTo("tool_calls");
    assertThat(result.usage()).as("usage only in the last, choice-less chunk").isEqualTo(new Usage(149, 48, 197));
    assertThat(result.content()).isNull();
    assertThat(deltas.received).isEmpty();
    assertThat(result.response()).as("every chunk kept for the journal").hasSize(10);
  }

  @Test
  void streamed_text_arrives_as_deltas_with_usage_from_the_last_chunk() {
    ChatResult result = replay(Fixtures.stream("04_stream_text_with_usage.sse"), true);

    assertThat(deltas.received).containsExactly("Hello", " there!");
    assertThat(result.content()).isEqualTo("Hello there!");
    assertThat(result.usage()).isEqualTo(new Usage(12, 3, 15));
    assertThat(result.finishReason()).isEqualTo("stop");
    assertThat(result.toolCalls()).isEmpty();
  }

  @Test
  void tgi_arguments_as_an_object_become_json_text() {
    ChatResult result = replay(Fixtures.body("q01_tgi_nonstream_arguments_object_id0.json"), false);

    ToolCall call = result.toolCalls().getFirst();
    assertThat(call.name()).isEqualTo("get_weather");
    assertThat(json(call.arguments())).isEqualTo(json("{\"city\":\"Paris\"}"));
    assertThat(call.id()).isEqualTo("0");
    assertThat(result.finishReason()).isEqualTo("eos_token");
    assertThat(result.content()).isNull();
  }

  @Test
  void tgi_stream_with_tool_calls_as_an_object_and_empty_ids() {
    ChatResult result = replay(Fixtures.stream("q02_tgi_stream_tool_calls_object_not_array.sse"), true);

    assertThat(result.toolCalls()).singleElement().satisfies(call -> {
      assertThat(call.name()).isEqualTo("get_weather");
      assertThat(call.arguments()).isEqualTo("{\"city\": \"Paris\"}");
      assertThat(call.id()).startsWith("call_").hasSizeGreaterThan(9);
    });
    assertThat(result.usage()).as("usage on the finish chunk").isEqualTo(new Usage(280, 15, 295));
  }

  @Test
  void generated_ids_are_stable_when_the_same_response_is_replayed() {
    ChatResult first = replay(Fixtures.stream("q02_tgi_stream_tool_calls_object_not_array.sse"), true);
    ChatResult second = replay(Fixtures.stream("q02_tgi_stream_tool_calls_object_not_array.sse"), true);

    assertThat(second.toolCalls()).isEqualTo(first.toolCalls());
  }

  @Test
  void ollama_whole_call_per_chunk_with_index_always_zero_gives_two_calls() {
    ChatResult result = replay(Fixtures.stream("q03_ollama_stream_whole_call_per_chunk_index0.sse"), true);

    assertThat(result.toolCalls()).extracting(ToolCall::id).containsExactly("call_a1b2c3d4", "call_e5f6g7h8");
    assertThat(result.toolCalls()).extracting(c -> json(c.arguments()).path("filePath").asText())
        .containsExactly("hello.py", "world.py");
    assertThat(result.usage()).isEqualTo(new Usage(188, 61, 249));
  }

  @Test
  void empty_string_id_and_name_on_continuation_deltas_are_ignored_and_missing_usage_is_null() {
    ChatResult result = replay(Fixtures.stream("q04_empty_string_id_name_on_continuation.sse"), true);

    assertThat(result.toolCalls()).containsExactly(
        new ToolCall("call_a1ad8367bde7444f", "bash", "{\"command\": \"ls -la\"}"));
    assertThat(result.usage()).isNull();
  }

  @Test
  void duplicate_ids_are_made_unique_and_whitespace_content_beside_calls_is_null() {
    ChatResult result = replay(Fixtures.body("q05_duplicate_tool_call_ids.json"), false);

    assertThat(result.toolCalls()).hasSize(2);
    assertThat(result.toolCalls().get(0).id()).isEqualTo("call_f0de99f4");
    assertThat(result.toolCalls().get(1).id()).isNotEqualTo("call_f0de99f4").startsWith("call_");
    assertThat(result.toolCalls().get(1).arguments()).isEqualTo("{\"city\":\"Lyon\"}");
    assertThat(result.content()).isNull();
  }

  @Test
  void hermes_tool_call_written_as_text_becomes_a_real_tool_call() {
    ChatResult result = replay(Fixtures.body("q06_tool_call_as_text_in_content.json"), false);

    assertThat(result.toolCalls()).singleElement().satisfies(call -> {
      assertThat(call.name()).isEqualTo("get_weather");
      assertThat(json(call.arguments())).isEqualTo(json("{\"city\":\"Paris\"}"));
      assertThat(call.id()).startsWith("call_");
    });
    assertThat(result.content()).isNull();
  }

  @Test
  void hermes_tool_call_in_a_stream_with_text_around_it() {
    String text = "Let me check.\n<tool_call>\n{\"name\": \"calculator\", \"arguments\": \"{\\\"expression\\\": \\\"2+2\\\"}\"}\n</tool_call>";
    ChatResult result = replay(FakeModelServer.text(text), true);

    assertThat(result.toolCalls()).singleElement().satisfies(call -> {
      assertThat(call.name()).isEqualTo("calculator");
      assertThat(call.arguments()).isEqualTo("{\"expression\": \"2+2\"}");
    });
    assertThat(result.content()).isEqualTo("Let me check.");
  }

  @Test
  void hermes_tool_call_without_its_closing_tag_is_still_a_tool_call() {
    ChatResult result = replay(FakeModelServer.text("<tool_call>{\"name\": \"now\", \"arguments\": {}}"), false);

    assertThat(result.toolCalls()).singleElement().satisfies(call -> {
      assertThat(call.name()).isEqualTo("now");
      assertThat(call.arguments()).isEqualTo("{}");
    });
  }

  @Test
  void function_tag_written_as_text_becomes_a_real_tool_call() {
    ChatResult result = replay(FakeModelServer.text("<function=get_weather>{\"city\": \"Paris\"}</function>"), false);

    assertThat(result.toolCalls()).singleElement()
        .satisfies(call -> assertThat(call.arguments()).isEqualTo("{\"city\": \"Paris\"}"));
    assertThat(result.content()).isNull();
  }

  @Test
  void text_that_only_mentions_a_tool_call_tag_stays_text() {
    ChatResult result = replay(FakeModelServer.text("Models write <tool_call> tags sometimes."), false);

    assertThat(result.toolCalls()).isEmpty();
    assertThat(result.content()).isEqualTo("Models write <tool_call> tags sometimes.");
  }

  @Test
  void reasoning_fields_go_to_reasoning_not_to_content() {
    ChatResult result = replay(Fixtures.stream("q07_reasoning_fields_stream.sse"), true);

    assertThat(result.reasoning()).isEqualTo("The user wants the weather; I should call get_weather.");
    assertThat(result.content()).isEqualTo("Calling the tool now.");
    assertThat(deltas.received).containsExactly("Calling the tool now.");
  }

  @Test
  void llamacpp_usage_and_timings_on_the_finish_chunk() {
    ChatResult result = replay(Fixtures.stream("q08_llamacpp_usage_on_finish_chunk.sse"), true);

    assertThat(result.usage()).isEqualTo(new Usage(70, 9, 79));
    assertThat(result.reasoning()).isEqualTo("Short answer.");
    assertThat(result.content()).isEqualTo("Hi!");
  }

  @Test
  void chunks_with_empty_choices_are_skipped() {
    ChatResult result = replay(Fixtures.stream("q11_empty_choices_first_chunk.sse"), true);

    assertThat(result.content()).isEqualTo("OK");
    assertThat(result.finishReason()).isEqualTo("stop");
    assertThat(result.usage()).isNull();
  }

  @Test
  void invalid_json_arguments_are_kept_verbatim_streamed_or_not() {
    String broken = "{\"expression\": \"2+";
    ChatResult streamed = replay(FakeModelServer.toolCall("calculator", broken), true);
    ChatResult whole = replay(FakeModelServer.toolCall("calculator", broken), false);

    assertThat(streamed.toolCalls()).singleElement().extracting(ToolCall::arguments).isEqualTo(broken);
    assertThat(whole.toolCalls()).singleElement().extracting(ToolCall::arguments).isEqualTo(broken);
  }

  @Test
  void content_null_and_empty_string_both_read_as_empty_text() {
    String nullContent = """
        {"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop"}]}""";
    String emptyContent = """
        {"id":"y","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}""";

    ChatResult fromNull = replay(FakeModelServer.raw(200, "application/json", nullContent), false);
    ChatResult fromEmpty = replay(FakeModelServer.raw(200, "application/json", emptyContent), false);

    assertThat(fromNull.content()).isEqualTo("");
    assertThat(fromEmpty.content()).isEqualTo("");
    assertThat(fromNull.usage()).isNull();
  }

  @Test
  void stream_without_ids_gets_generated_ids() {
    String vllm = """
        data: {"id":"chatcmpl-v","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"a","arguments":"{}"}}]}}]}

        data: {"id":"chatcmpl-v","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"b","arguments":"{}"}}]}}]}

        data: {"id":"chatcmpl-v","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

        data: [DONE]

        """;
    ChatResult result = replay(FakeModelServer.raw(200, "text/event-stream", vllm), true);

    assertThat(result.toolCalls()).extracting(ToolCall::name).containsExactly("a", "b");
    assertThat(result.toolCalls()).extracting(ToolCall::id).doesNotContainNull().doesNotHaveDuplicates();
  }

  @Test
  void stream_that_ends_without_done_after_the_finish_reason_is_complete() {
    String noDone = """
        data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}

        data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
        """;
    ChatResult result = replay(FakeModelServer.raw(200, "text/event-stream", noDone), true);

    assertThat(result.content()).isEqualTo("Hi");
  }

  @Test
  void nothing_after_done_is_read() {
    String afterDone = """
        data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}

        data: [DONE]

        data: {"choices":[{"index":0,"delta":{"content":" again"}}]}

        """;
    ChatResult result = replay(FakeModelServer.raw(200, "text/event-stream", afterDone), true);

    assertThat(result.content()).isEqualTo("Hi");
  }

  @Test
  void server_that_ignores_stream_true_and_answers_json_is_understood() {
    ChatResult result = replay(FakeModelServer.raw(200, "application/json", """
        {"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Whole answer"},"finish_reason":"stop"}]}"""),
        true);

    assertThat(result.content()).isEqualTo("Whole answer");
    assertThat(deltas.received).containsExactly("Whole answer");
  }

  @Test
  void fake_server_streams_text_tool_calls_reasoning_and_usage() {
    fake.enqueue(FakeModelServer.toolCalls(FakeModelServer.call("a", "{\"x\":1}"), FakeModelServer.call("b", "{}"))
        .withText("Two calls.").withReasoning("think").withUsage(7, 3));

    ChatResult result = client.complete(fake.endpoint(), ask("q", true), deltas);

    assertThat(result.toolCalls()).containsExactly(new ToolCall("call_1_0", "a", "{\"x\":1}"),
        new ToolCall("call_1_1", "b", "{}"));
    assertThat(result.content()).isEqualTo("Two calls.");
    assertThat(deltas.received).hasSizeGreaterThan(1);
    assertThat(result.reasoning()).isEqualTo("think");
    assertThat(result.usage()).isEqualTo(new Usage(7, 3, 10));
    assertThat(result.finishReason()).isEqualTo("tool_calls");
  }
}
