package io.aryabhatta.tracing;

import io.opentelemetry.api.common.AttributeKey;
import java.util.List;

/** The attribute names of run spans: the generative-AI conventions tools like Jaeger or Langfuse read, and ours. */
final class GenAiAttributes {
  private GenAiAttributes() {}

  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<Double> REQUEST_TEMPERATURE = AttributeKey.doubleKey("gen_ai.request.temperature");
  static final AttributeKey<Double> REQUEST_TOP_P = AttributeKey.doubleKey("gen_ai.request.top_p");
  static final AttributeKey<Long> REQUEST_MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
  static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<String> RESPONSE_ID = AttributeKey.stringKey("gen_ai.response.id");
  static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<String> AGENT_NAME = AttributeKey.stringKey("gen_ai.agent.name");
  static final AttributeKey<String> AGENT_ID = AttributeKey.stringKey("gen_ai.agent.id");
  static final AttributeKey<String> CONVERSATION_ID = AttributeKey.stringKey("gen_ai.conversation.id");
  static final AttributeKey<String> TOOL_NAME = AttributeKey.stringKey("gen_ai.tool.name");
  static final AttributeKey<String> TOOL_CALL_ID = AttributeKey.stringKey("gen_ai.tool.call.id");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

  // Content: only with ARYABHATTA_TRACE_CONTENT=true.
  static final AttributeKey<String> INPUT_MESSAGES = AttributeKey.stringKey("gen_ai.input.messages");
  static final AttributeKey<String> OUTPUT_MESSAGES = AttributeKey.stringKey("gen_ai.output.messages");
  static final AttributeKey<String> TOOL_ARGUMENTS = AttributeKey.stringKey("gen_ai.tool.call.arguments");
  static final AttributeKey<String> TOOL_RESULT = AttributeKey.stringKey("gen_ai.tool.call.result");

  // Aryabhatta's own.
  static final AttributeKey<String> RUN_ID = AttributeKey.stringKey("aryabhatta.run.id");
  static final AttributeKey<Boolean> RUN_RESUMED = AttributeKey.booleanKey("aryabhatta.run.resumed");
  static final AttributeKey<String> RUN_STOPPED = AttributeKey.stringKey("aryabhatta.run.stopped");
  static final AttributeKey<Long> AGENT_VERSION = AttributeKey.longKey("aryabhatta.agent.version");
  static final AttributeKey<Long> STEP_INDEX = AttributeKey.longKey("aryabhatta.step.index");
  static final AttributeKey<String> TOOL_KIND = AttributeKey.stringKey("aryabhatta.tool.kind");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("aryabhatta.attempts");
  static final AttributeKey<String> ACTION_TYPE = AttributeKey.stringKey("aryabhatta.required_action.type");
}
