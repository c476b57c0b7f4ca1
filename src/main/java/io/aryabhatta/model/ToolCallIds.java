package io.aryabhatta.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Gives every tool call of one response a unique id. Providers send none (vLLM streams), empty
 * ones (TGI), or the same one for several calls (DeepSeek, GLM, TGI's "0"). Generated ids are
 * derived from the response, so replaying the same response yields the same ids.
 */
final class ToolCallIds {
  private ToolCallIds() {}

  /** A call before its id is settled. */
  record Draft(String id, String name, String arguments) {}

  static List<ToolCall> assign(String responseId, List<Draft> drafts) {
    Set<String> taken = new HashSet<>();
    List<ToolCall> calls = new ArrayList<>();
    for (int i = 0; i < drafts.size(); i++) {
      Draft draft = drafts.get(i);
      String id = draft.id();
      if (id == null || id.isBlank() || taken.contains(id)) {
        id = generated(responseId, i, draft, taken);
      }
      taken.add(id);
      calls.add(new ToolCall(id, draft.name(), draft.arguments()));
    }
    return calls;
  }

  private static String generated(String responseId, int index, Draft draft, Set<String> taken) {
    String seed = responseId + "\n" + index + "\n" + draft.id() + "\n" + draft.name() + "\n" + draft.arguments();
    String id = "call_" + sha256Hex(seed).substring(0, 24);
    return taken.contains(id) ? id + "_" + index : id;
  }

  private static String sha256Hex(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException impossible) {
      throw new IllegalStateException("SHA-256 is part of every JDK", impossible);
    }
  }
}
