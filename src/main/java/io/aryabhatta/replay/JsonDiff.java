package io.aryabhatta.replay;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where two JSON documents differ, as short readable lines naming the JSON path, e.g.
 * {@code request.messages[0].content differs: recorded "You are…", today "Be brief."}. Numbers
 * compare by value (a stored {@code 7} equals a sent {@code 7L}); object keys in any order.
 */
final class JsonDiff {
  private static final int LONGEST_VALUE = 60;

  private JsonDiff() {}

  static List<String> between(JsonNode recorded, JsonNode today, String path) {
    List<String> differences = new ArrayList<>();
    compare(recorded, today, path, differences);
    return differences;
  }

  private static void compare(JsonNode recorded, JsonNode today, String path, List<String> out) {
    boolean recordedAbsent = recorded == null || recorded.isMissingNode();
    boolean todayAbsent = today == null || today.isMissingNode();
    if (recordedAbsent && todayAbsent) {
      return;
    }
    if (todayAbsent) {
      out.add(path + ": recorded " + shortly(recorded) + ", not sent today");
    } else if (recordedAbsent) {
      out.add(path + ": sent today (" + shortly(today) + "), not recorded");
    } else if (recorded.isObject() && today.isObject()) {
      Set<String> keys = new LinkedHashSet<>();
      recorded.fieldNames().forEachRemaining(keys::add);
      today.fieldNames().forEachRemaining(keys::add);
      for (String key : keys) {
        compare(recorded.get(key), today.get(key), path + "." + key, out);
      }
    } else if (recorded.isArray() && today.isArray()) {
      if (recorded.size() != today.size()) {
        out.add(path + " has " + today.size() + " items today, " + recorded.size() + " recorded");
      }
      Iterator<JsonNode> r = recorded.elements();
      Iterator<JsonNode> t = today.elements();
      for (int i = 0; r.hasNext() || t.hasNext(); i++) {
        compare(r.hasNext() ? r.next() : null, t.hasNext() ? t.next() : null, path + "[" + i + "]", out);
      }
    } else if (!same(recorded, today)) {
      out.add(path + " differs: recorded " + shortly(recorded) + ", today " + shortly(today));
    }
  }

  private static boolean same(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    return a.equals(b);
  }

  static String shortly(JsonNode value) {
    String text = value.toString();
    return text.length() <= LONGEST_VALUE ? text : text.substring(0, LONGEST_VALUE) + "…";
  }
}
