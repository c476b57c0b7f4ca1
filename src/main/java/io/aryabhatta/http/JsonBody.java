package io.aryabhatta.http;

import io.aryabhatta.errors.DomainException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.Locale;
import java.util.stream.Collectors;

/** Reads request bodies: JSON only, size-capped, with errors a client can act on. */
public final class JsonBody {
  private static final String CACHED = "body-bytes";
  /** Beyond this, what is left of a rejected body is not read: the connection is closed instead. */
  private static final long DISCARD_LIMIT = 16L * 1024 * 1024;

  private final ObjectMapper mapper;
  private final long maxBytes;

  public JsonBody(ObjectMapper mapper, long maxBytes) {
    this.mapper = mapper;
    this.maxBytes = maxBytes;
  }

  public <T> T read(Context ctx, Class<T> type) {
    byte[] bytes = bytes(ctx);
    if (bytes.length == 0) {
      throw new ApiException.MalformedJson("the request body is empty; a JSON object is expected");
    }
    refuseNul(bytes);
    try {
      T value = mapper.readValue(bytes, type);
      if (value == null) {
        throw new ApiException.MalformedJson("the request body is null; a JSON object is expected");
      }
      return value;
    } catch (UnrecognizedPropertyException e) {
      throw new DomainException.ValidationFailed(path(e), "unknown field");
    } catch (InvalidFormatException e) {
      throw new DomainException.ValidationFailed(path(e), "invalid value " + e.getValue());
    } catch (MismatchedInputException e) {
      String expected = e.getTargetType() == null ? "another type" : describe(e.getTargetType());
      throw new DomainException.ValidationFailed(path(e), "wrong type: expected " + expected);
    } catch (JsonMappingException e) {
      Throwable cause = e.getCause();
      String message = cause instanceof DomainException || cause instanceof ApiException ? cause.getMessage() : e.getOriginalMessage();
      throw new DomainException.ValidationFailed(path(e), message);
    } catch (JsonProcessingException e) {
      throw new ApiException.MalformedJson("the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ApiException.BadRequest("the request body could not be read");
    }
  }

  /** The body as a JSON tree; an empty body reads as an empty object. */
  public JsonNode tree(Context ctx) {
    byte[] bytes = bytes(ctx);
    if (bytes.length == 0) {
      return mapper.createObjectNode();
    }
    refuseNul(bytes);
    try {
      return mapper.readTree(bytes);
    } catch (IOException e) {
      throw new ApiException.MalformedJson("the body is not valid JSON");
    }
  }

  /**
   * PostgreSQL cannot store the NUL character (U+0000): a request holding one (as a JSON escape,
   * the only way JSON can) is refused rather than stored altered.
   */
  private static void refuseNul(byte[] json) {
    for (int i = 0; i + 5 < json.length; i++) {
      if (json[i] == '\\') {
        if (json[i + 1] == 'u' && json[i + 2] == '0' && json[i + 3] == '0' && json[i + 4] == '0' && json[i + 5] == '0') {
          throw new DomainException.ValidationFailed("body",
              "contains the NUL character (\\u0000), which cannot be stored; remove it");
        }
        i++; // the escaped character, so that an escaped backslash is not taken for an escape
      }
    }
  }

  /** Like {@link #read}, but an empty body yields {@code fallback}. */
  public <T> T readOrDefault(Context ctx, Class<T> type, T fallback) {
    return bytes(ctx).length == 0 ? fallback : read(ctx, type);
  }

  /** The raw body, read once and kept on the request, so that it can be hashed and parsed. */
  public byte[] bytes(Context ctx) {
    byte[] cached = ctx.attribute(CACHED);
    if (cached != null) {
      return cached;
    }
    byte[] bytes = readBytes(ctx);
    ctx.attribute(CACHED, bytes);
    return bytes;
  }

  private byte[] readBytes(Context ctx) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > maxBytes) {
      discardRest(ctx);
      throw new ApiException.PayloadTooLarge(maxBytes);
    }
    String contentType = ctx.header("Content-Type");
    if (declared != 0 && contentType != null && !isJson(contentType)) {
      throw new ApiException.UnsupportedMediaType("send the body as application/json, not " + contentType);
    }
    byte[] bytes;
    try {
      bytes = ctx.req().getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    } catch (IOException e) {
      throw new ApiException.BadRequest("the request body could not be read");
    }
    if (bytes.length > maxBytes) {
      discardRest(ctx);
      throw new ApiException.PayloadTooLarge(maxBytes);
    }
    if (bytes.length > 0 && contentType == null) {
      throw new ApiException.UnsupportedMediaType("set Content-Type: application/json");
    }
    return bytes;
  }

  /**
   * Reads and drops what is left of a body too large to accept, up to {@link #DISCARD_LIMIT}: a
   * client still sending it then reads the 413. Closing the connection on unread bytes makes the
   * kernel reset it, and a reset can destroy the answer before the client has read it.
   */
  private static void discardRest(Context ctx) {
    try {
      var in = ctx.req().getInputStream();
      byte[] buffer = new byte[64 * 1024];
      long left = DISCARD_LIMIT;
      int n;
      while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
        left -= n;
      }
    } catch (IOException e) {
      // The client went away: nobody is left to read the answer.
    }
  }

  private static boolean isJson(String contentType) {
    String base = contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
    return base.equals("application/json") || base.endsWith("+json");
  }

  private static String path(JsonMappingException e) {
    String p = e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."))
        .replace(".[", "[");
    return p.isEmpty() ? "body" : p;
  }

  private static String describe(Class<?> type) {
    if (type == String.class) return "a string";
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) return "an integer";
    if (Number.class.isAssignableFrom(type) || type == double.class) return "a number";
    if (type == Boolean.class || type == boolean.class) return "a boolean";
    if (java.util.Collection.class.isAssignableFrom(type)) return "an array";
    if (type.isEnum()) return "one of " + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT);
    return "an object";
  }
}
