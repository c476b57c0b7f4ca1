package io.aryabhatta.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.tools.ToolDefinition;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What a tool was when one of its calls started executing, journaled with the step: its kind and
 * id, whether it was idempotent, and for an http tool its method, URL template and a digest of its
 * whole request template (headers, query, body, timeout). A call left
 * {@code started} by a process that died is executed again only if the journal says the tool was
 * idempotent then and the tool is still the same call now; otherwise its outcome is unknown and a
 * person decides.
 */
final class ToolSnapshot {
  private ToolSnapshot() {}

  static ObjectNode of(ToolDefinition tool, ObjectMapper mapper) {
    ObjectNode snapshot = mapper.createObjectNode();
    snapshot.put("kind", tool.kind());
    snapshot.put("id", tool.id());
    snapshot.put("idempotent", tool.idempotent());
    if (tool.http() != null) {
      snapshot.put("method", tool.http().method());
      snapshot.put("url", tool.http().url());
      // Headers, query and body templates may hold literal credentials: only their digest is kept.
      snapshot.put("request_sha256", sha256(canonical(mapper, tool.http())));
    }
    return snapshot;
  }

  /** The same text in every process: header and query maps are written in key order. */
  private static String canonical(ObjectMapper mapper, Object value) {
    try {
      return mapper.writer().with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tool's request template is not writable as JSON", e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether the call journaled as {@code executedAs} may be executed again, by {@code now}, without a person. */
  static boolean mayExecuteAgain(JsonNode executedAs, ToolDefinition now, ObjectMapper mapper) {
    return executedAs != null && executedAs.path("idempotent").asBoolean(false) && now != null
        && of(now, mapper).equals(executedAs);
  }
}
