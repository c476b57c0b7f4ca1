package io.aryabhatta.workspaces;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * API key material. Keys are 32 random bytes, so a plain SHA-256 is a safe way to store them: no
 * salt or slow hash is needed for secrets that cannot be guessed.
 */
public final class ApiKeys {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();
  static final String KEY_PREFIX = "ary_";
  static final int SHOWN_PREFIX_LENGTH = KEY_PREFIX.length() + 8;

  private ApiKeys() {}

  public static String generate() {
    StringBuilder key = new StringBuilder(KEY_PREFIX);
    for (int i = 0; i < 43; i++) {
      key.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return key.toString();
  }

  /** The part of a key that may be shown again. */
  public static String prefix(String key) {
    return key.startsWith(KEY_PREFIX) && key.length() > SHOWN_PREFIX_LENGTH
        ? key.substring(0, SHOWN_PREFIX_LENGTH)
        : "env-admin";
  }

  public static String hash(String key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
