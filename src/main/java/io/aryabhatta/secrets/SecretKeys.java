package io.aryabhatta.secrets;

import io.aryabhatta.config.Config;
import io.aryabhatta.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the key that encrypts stored secrets: {@code ARYABHATTA_SECRET_KEY} (base64 of 32 bytes),
 * else {@code <ARYABHATTA_DATA_DIR>/secret.key}, generated on first start (mode 600) and reused.
 */
public final class SecretKeys {
  private static final Logger log = LoggerFactory.getLogger(SecretKeys.class);
  static final String VARIABLE = "ARYABHATTA_SECRET_KEY";
  static final String FILE_NAME = "secret.key";

  private SecretKeys() {}

  public static SecretCipher cipher(Config config) {
    return new SecretCipher(key(config.secretKey(), config.dataDir()));
  }

  static byte[] key(Optional<String> configured, Path dataDir) {
    if (configured.isPresent()) {
      return decode(configured.get()).orElseThrow(() -> new ConfigException(VARIABLE,
          "must be the base64 encoding of 32 random bytes (e.g. the output of 'openssl rand -base64 32')"));
    }
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      generate(file);
    }
    try {
      return decode(Files.readString(file, StandardCharsets.US_ASCII)).orElseThrow(() -> new ConfigException(VARIABLE,
          "is unset and " + file + " does not hold a base64 encoded 32-byte key; fix or remove that file"));
    } catch (IOException e) {
      throw new ConfigException(VARIABLE, "is unset and " + file + " cannot be read (" + e.getMessage() + ")");
    }
  }

  private static void generate(Path file) {
    byte[] key = new byte[SecretCipher.KEY_BYTES];
    new SecureRandom().nextBytes(key);
    try {
      Files.createDirectories(file.getParent());
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } else {
        Files.createFile(file);
      }
      Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
      log.info("Generated the secret encryption key into {}; back it up, or set {} instead", file, VARIABLE);
    } catch (FileAlreadyExistsException e) {
      // Another process created it first: use theirs.
    } catch (IOException e) {
      throw new ConfigException(VARIABLE, "is unset and " + file + " cannot be created (" + e.getMessage() + ")");
    }
  }

  private static Optional<byte[]> decode(String text) {
    try {
      byte[] key = Base64.getDecoder().decode(text.strip());
      return key.length == SecretCipher.KEY_BYTES ? Optional.of(key) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
