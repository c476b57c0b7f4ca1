package io.aryabhatta.bench;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import io.aryabhatta.tools.Calculator;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;

/**
 * The comparison: the benchmark agent as an in-process LangChain4j {@code AiServices} assistant
 * (not durable: nothing is journaled, a crash loses the run). Same system prompt, same fake
 * model, the same two tools doing the same work (Aryabhatta's own calculator), and the same script:
 * each {@link #run} is 3 model calls and 2 tool calls, made on the calling thread.
 *
 * <p>It asks for non-streamed answers (the fake model then sends one JSON body), which is less
 * work than reading the stream Aryabhatta reads: the comparison favours LangChain4j.
 */
final class LangChain4jAgent {
  /** The assistant's interface: LangChain4j implements it. */
  interface Assistant {
    @SystemMessage("You are a benchmark agent. Use the tools, then answer.")
    String chat(String input);
  }

  /** The benchmark agent's two tools, timed so that their time is not counted as overhead. */
  static final class Tools {
    private static final ThreadLocal<long[]> TOOL_NANOS = ThreadLocal.withInitial(() -> new long[1]);
    private final Calculator calculator = new Calculator();

    @Tool(name = "calculator", value = "Evaluates an arithmetic expression exactly.")
    String calculator(@P("The expression, e.g. (1 + 2) * 3") String expression) {
      long started = System.nanoTime();
      try {
        return calculator.evaluate(expression);
      } catch (Calculator.InvalidExpression e) {
        return "Error: " + e.getMessage();
      } finally {
        TOOL_NANOS.get()[0] += System.nanoTime() - started;
      }
    }

    @Tool(name = "current_time", value = "The current date and time in a time zone.")
    String currentTime(@P("An IANA time zone, e.g. UTC") String timezone) {
      long started = System.nanoTime();
      try {
        return ZonedDateTime.now(ZoneId.of(timezone)).toString();
      } finally {
        TOOL_NANOS.get()[0] += System.nanoTime() - started;
      }
    }

    /** Tool time spent on this thread since the last call, and reset. */
    static long takeToolNanos() {
      long[] spent = TOOL_NANOS.get();
      long value = spent[0];
      spent[0] = 0;
      return value;
    }
  }

  private final Assistant assistant;

  LangChain4jAgent(FakeModel model) {
    OpenAiChatModel chatModel = OpenAiChatModel.builder()
        .baseUrl(model.baseUrl())
        .apiKey(FakeModel.API_KEY)
        .modelName(FakeModel.MODEL)
        .timeout(Duration.ofSeconds(300))
        .maxRetries(0)
        .build();
    this.assistant = AiServices.builder(Assistant.class).chatModel(chatModel).tools(new Tools()).build();
  }

  /** One run: the user's input is the run's tag, which the fake model keys its script on. */
  String run(String tag) {
    return assistant.chat(tag);
  }
}
