package io.aryabhatta.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aryabhatta.config.ConfigException;
import io.aryabhatta.testing.TestPostgres;
import io.aryabhatta.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretKeysTest {
  @TempDir
  Path dataDir;

  @Test
  void generated_key_file_is_private_and_reused() throws Exception {
    byte[] first = SecretKeys.key(Optional.empty(), dataDir);
    Path file = dataDir.resolve("secret.key");
    assertThat(first).hasSize(32);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(SecretKeys.key(Optional.empty(), dataDir)).isEqualTo(first);
  }

  @Test
  void configured_key_wins_and_an_invalid_one_names_the_variable() {
    byte[] key = new byte[32];
    key[0] = 7;
    assertThat(SecretKeys.key(Optional.of(Base64.getEncoder().encodeToString(key)), dataDir)).isEqualTo(key);
    assertThatThrownBy(() -> SecretKeys.key(Optional.of("too-short"), dataDir))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("ARYABHATTA_SECRET_KEY:");
    assertThatThrownBy(() -> SecretKeys.key(Optional.of(Base64.getEncoder().encodeToString(new byte[16])), dataDir))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void cipher_round_trips_with_a_fresh_nonce_and_binds_the_owner() {
    SecretCipher cipher = new SecretCipher(new byte[32]);
    SecretCipher.Sealed a = cipher.encrypt("hello secret", "w/NAME");
    SecretCipher.Sealed b = cipher.encrypt("hello secret", "w/NAME");
    assertThat(a.nonce()).hasSize(12).isNotEqualTo(b.nonce());
    assertThat(a.ciphertext()).isNotEqualTo(b.ciphertext());
    assertThat(cipher.decrypt(a, "w/NAME")).isEqualTo("hello secret");
    assertThatThrownBy(() -> cipher.decrypt(a, "w/OTHER")).isInstanceOf(SecretCipher.UndecryptableException.class);
    byte[] otherKey = new byte[32];
    otherKey[31] = 1;
    assertThatThrownBy(() -> new SecretCipher(otherKey).decrypt(a, "w/NAME"))
        .isInstanceOf(SecretCipher.UndecryptableException.class)
        .hasMessageNotContaining("hello secret");
  }

  @Test
  void server_refuses_to_start_with_another_key_than_its_secrets_were_stored_with() {
    String database = TestPostgres.freshDatabase();
    String key1 = Base64.getEncoder().encodeToString(new byte[32]);
    byte[] other = new byte[32];
    other[0] = 1;
    String key2 = Base64.getEncoder().encodeToString(other);
    TestServer.start(Map.of("DB_CONNECTION_STRING", database, "ARYABHATTA_SECRET_KEY", key1)).close();
    assertThatThrownBy(() -> TestServer.start(Map.of("DB_CONNECTION_STRING", database, "ARYABHATTA_SECRET_KEY", key2)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("ARYABHATTA_SECRET_KEY:");
    TestServer.start(Map.of("DB_CONNECTION_STRING", database, "ARYABHATTA_SECRET_KEY", key1)).close();
  }

  @Test
  void invalid_secret_key_stops_startup_naming_the_variable() {
    assertThatThrownBy(() -> TestServer.start(Map.of("ARYABHATTA_SECRET_KEY", "not base64 !")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("ARYABHATTA_SECRET_KEY:");
  }
}
