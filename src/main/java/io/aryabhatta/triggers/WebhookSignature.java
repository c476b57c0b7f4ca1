package io.aryabhatta.triggers;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A delivery's signature: {@code sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">} keyed with the
 * trigger's secret, with the timestamp (Unix seconds) at most five minutes from now, so that a
 * captured delivery cannot be sent again later.
 */
public final class WebhookSignature {
  public static final String SIGNATURE_HEADER = "X-Aryabhatta-Signature";
  public static final String TIMESTAMP_HEADER = "X-Aryabhatta-Timestamp";
  static final Duration TOLERANCE = Duration.ofMinutes(5);
  private static final String PREFIX = "sha256=";

  private WebhookSignature() {}

  /** Why a delivery is refused, or that it is not. */
  public enum Verdict {
    VALID(null),
    MISSING_TIMESTAMP("send the Unix time of the delivery in " + TIMESTAMP_HEADER),
    STALE_TIMESTAMP(TIMESTAMP_HEADER + " is more than 5 minutes away from now; sign each delivery when it is sent"),
    MISSING_SIGNATURE("send " + SIGNATURE_HEADER + ": sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">"),
    MISMATCH("the signature does not match the body and timestamp under this trigger's secret");

    private final String reason;

    Verdict(String reason) {
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  /** The header value a sender computes. */
  public static String sign(String secret, long timestamp, byte[] body) {
    return PREFIX + HexFormat.of().formatHex(mac(secret, timestamp, body));
  }

  public static Verdict verify(String secret, String timestampHeader, String signatureHeader, byte[] body,
      Instant now) {
    if (timestampHeader == null || !timestampHeader.strip().matches("\\d{1,12}")) {
      return Verdict.MISSING_TIMESTAMP;
    }
    long timestamp = Long.parseLong(timestampHeader.strip());
    if (Math.abs(now.getEpochSecond() - timestamp) > TOLERANCE.toSeconds()) {
      return Verdict.STALE_TIMESTAMP;
    }
    if (signatureHeader == null || !signatureHeader.strip().regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      return Verdict.MISSING_SIGNATURE;
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(signatureHeader.strip().substring(PREFIX.length()).toLowerCase());
    } catch (IllegalArgumentException e) {
      return Verdict.MISMATCH;
    }
    return MessageDigest.isEqual(mac(secret, timestamp, body), given) ? Verdict.VALID : Verdict.MISMATCH;
  }

  private static byte[] mac(String secret, long timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
    }
  }
}
