package io.aryabhatta.secrets;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM with a fresh random 12-byte nonce per value. The owner of a value (workspace and
 * name) is bound in as associated data, so a ciphertext copied to another row does not decrypt.
 */
public final class SecretCipher {
  public static final int KEY_BYTES = 32;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKey key;
  private final SecureRandom random = new SecureRandom();

  public SecretCipher(byte[] key) {
    if (key.length != KEY_BYTES) {
      throw new IllegalArgumentException("an AES-256 key has " + KEY_BYTES + " bytes");
    }
    this.key = new SecretKeySpec(key, "AES");
  }

  /** A value as stored: the nonce and the ciphertext with its authentication tag. */
  public record Sealed(byte[] nonce, byte[] ciphertext) {}

  /** Raised when a value was encrypted with another key or altered; it carries no value. */
  public static final class UndecryptableException extends RuntimeException {
    UndecryptableException(String message) {
      super(message, null, false, false);
    }
  }

  public Sealed encrypt(String plaintext, String owner) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, nonce, owner);
      return new Sealed(nonce, cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available in this JVM", e);
    }
  }

  public String decrypt(Sealed sealed, String owner) {
    try {
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, sealed.nonce(), owner);
      return new String(cipher.doFinal(sealed.ciphertext()), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new UndecryptableException("a stored secret cannot be decrypted with the configured secret key");
    }
  }

  private Cipher cipher(int mode, byte[] nonce, String owner) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(owner.getBytes(StandardCharsets.UTF_8));
    return cipher;
  }
}
