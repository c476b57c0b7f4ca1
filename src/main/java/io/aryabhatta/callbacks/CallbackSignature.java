package io.aryabhatta.callbacks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of a callback: {@code sha256=} and the hex HMAC-SHA256, keyed with the
 * workspace's callback secret (its text, as UTF-8), of {@code "<timestamp>.<body>"}. The timestamp
 * is signed too, so a receiver that refuses old timestamps cannot be sent a recorded delivery later.
 */
public final class CallbackSignature {
  public static final String HEADER = "X-Aryabhatta-Signature";
  public static final String TIMESTAMP_HEADER = "X-Aryabhatta-Timestamp";
  public static final String DELIVERY_HEADER = "X-Aryabhatta-Delivery";

  private CallbackSignature() {}

  public static String sign(String secret, long timestampSeconds, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((timestampSeconds + "." + body).getBytes(StandardCharsets.UTF_8));
      return "sha256=" + HexFormat.of().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
    }
  }
}
