package io.aryabhatta.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
  private static final String DB = "DB_CONNECTION_STRING";

  private static DatabaseUrl parse(String value) {
    return DatabaseUrl.parse(DB, value);
  }

  @Test
  void percent_encoded_special_characters_in_the_password_are_decoded() {
    DatabaseUrl url = parse("postgresql://app:p%40ss%3Aw%2Fd@db.example.com:6543/agents");
    assertThat(url.user()).isEqualTo("app");
    assertThat(url.password()).isEqualTo("p@ss:w/d");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:6543/agents");
  }

  @Test
  void raw_special_characters_in_the_password_are_kept_as_typed() {
    assertThat(parse("postgresql://app:p!$&*ss@db:5432/agents").password()).isEqualTo("p!$&*ss");
    assertThat(parse("postgresql://app:a+b@db/agents").password()).isEqualTo("a+b");
    assertThat(parse("postgresql://app:mail@home@db/agents").password()).isEqualTo("mail@home");
  }

  @Test
  void user_without_password_has_no_password() {
    DatabaseUrl url = parse("postgresql://postgres@127.0.0.1:5432/test");
    assertThat(url.user()).isEqualTo("postgres");
    assertThat(url.password()).isNull();
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/test");
  }

  @Test
  void missing_port_and_database_take_the_libpq_defaults() {
    // libpq: the port defaults to 5432 (left to the driver), the database to the user's name.
    assertThat(parse("postgresql://alice:pw@dbhost").jdbcUrl()).isEqualTo("jdbc:postgresql://dbhost/alice");
    assertThat(parse("postgresql://dbhost/").jdbcUrl()).isEqualTo("jdbc:postgresql://dbhost/postgres");
    assertThat(parse("postgresql:///agents").jdbcUrl()).isEqualTo("jdbc:postgresql://localhost/agents");
  }

  @Test
  void query_parameters_are_kept() {
    assertThat(parse("postgresql://u:p@db:5432/agents?sslmode=require&application_name=aryabhatta").jdbcUrl())
        .isEqualTo("jdbc:postgresql://db:5432/agents?sslmode=require&application_name=aryabhatta");
  }

  @Test
  void postgres_scheme_is_accepted_like_postgresql() {
    DatabaseUrl url = parse("postgres://u:secret@db:5433/agents");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5433/agents");
    assertThat(url.password()).isEqualTo("secret");
  }

  @Test
  void jdbc_url_is_used_as_is() {
    DatabaseUrl url = parse("jdbc:postgresql://db:5432/agents?user=u&password=secret");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/agents?user=u&password=secret");
    assertThat(url.user()).isNull();
    assertThat(url.password()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "not a url",
      "mysql://u:secret@db/agents",
      "http://db:5432/agents",
      "postgresql://u:secret@db host/agents",
      "postgresql://u:secret@db:port/agents",
      "postgresql://u:sec%zzret@db/agents",
      "jdbc:postgresql://db:notaport/agents",
  })
  void garbage_is_a_config_error_naming_the_variable_without_the_password(String value) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(value));
    assertThat(e).isNotNull();
    assertThat(e.variable()).isEqualTo(DB);
    assertThat(e.getMessage()).startsWith(DB + ": ").doesNotContain("secret").doesNotContain("\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "postgresql://app:S3cr3t!x@db:5432/agents",
      "postgresql://app:S3cr3t%21x@db/agents?sslmode=require",
      "postgresql://app@db/agents?password=S3cr3t!x",
      "jdbc:postgresql://db/agents?user=app&password=S3cr3t!x&sslmode=require",
      "jdbc:postgresql://db/agents?PASSWORD=S3cr3t!x",
  })
  void describe_never_shows_the_password(String value) {
    DatabaseUrl url = parse(value);
    assertThat(url.describe()).doesNotContain("S3cr3t").contains("db");
    assertThat(url.toString()).doesNotContain("S3cr3t");
    Config config = ConfigLoader.fromMap(Map.of(DB, value));
    assertThat(config.toString()).doesNotContain("S3cr3t");
  }

  @Test
  void defaults_apply_when_nothing_is_set() {
    Config config = ConfigLoader.fromMap(Map.of());
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(8000);
    assertThat(config.database()).isEmpty();
    assertThat(config.dataDir()).isEqualTo(Path.of("data").toAbsolutePath());
    assertThat(config.lease()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.hfApiUrl()).isEqualTo(ConfigLoader.DEFAULT_HF_API_URL);
    assertThat(config.maxBodyBytes()).isEqualTo(1024 * 1024);
  }

  @ParameterizedTest
  @ValueSource(strings = {"chat.example.com", "https://chat.example.com/app", "ftp://chat.example.com"})
  void a_cors_origin_that_is_not_scheme_and_host_names_ARYABHATTA_CORS_ORIGINS(String value) {
    assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("ARYABHATTA_CORS_ORIGINS", "http://ok.example, " + value)))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.variable()).isEqualTo("ARYABHATTA_CORS_ORIGINS"))
        .hasMessageContaining(value);
  }

  @Test
  void cors_origins_are_off_by_default_and_read_as_a_list() {
    assertThat(ConfigLoader.fromMap(Map.of()).corsOrigins()).isEmpty();
    assertThat(ConfigLoader.fromMap(Map.of("ARYABHATTA_CORS_ORIGINS", " https://A.example:8443 , * ")).corsOrigins())
        .containsExactly("https://a.example:8443", "*");
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "70000", "-1", "80.5"})
  void bad_port_names_PORT(String value) {
    assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("PORT", value)))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.variable()).isEqualTo("PORT"))
        .hasMessageStartingWith("PORT: ")
        .hasMessageContaining(value);
  }

  @ParameterizedTest
  @ValueSource(strings = {"soon", "0", "1", "999999999"})
  void bad_lease_seconds_names_the_variable(String value) {
    assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("ARYABHATTA_LEASE_SECONDS", value)))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.variable()).isEqualTo("ARYABHATTA_LEASE_SECONDS"));
  }

  @Test
  void short_admin_key_is_refused_without_echoing_it() {
    assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("ARYABHATTA_ADMIN_KEY", "tooshort123")))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.variable()).isEqualTo("ARYABHATTA_ADMIN_KEY"))
        .message().doesNotContain("tooshort123");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://hf.example/v1", "not a url", "router.huggingface.co/v1", "https://"})
  void bad_hf_api_url_names_the_variable(String value) {
    assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("HF_API_URL", value)))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.variable()).isEqualTo("HF_API_URL"));
  }

  @Test
  void dotenv_is_read_and_the_environment_wins(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(".env"), """
        # a comment
        PORT=9001
        HOST=0.0.0.0
        DB_CONNECTION_STRING=postgresql://app:p%40ss@db:5432/agents
        """);
    Config config = ConfigLoader.fromEnvironment(Map.of("PORT", "9002"), dir);
    assertThat(config.port()).isEqualTo(9002);
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.database()).hasValueSatisfying(db -> assertThat(db.password()).isEqualTo("p@ss"));
    assertThat(config.lease()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void missing_dotenv_is_fine(@TempDir Path dir) {
    assertThat(ConfigLoader.fromEnvironment(Map.of("PORT", "9003"), dir).port()).isEqualTo(9003);
  }

  @Test
  void dotenv_in_a_relative_working_directory_is_read(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(".env"), "PORT=9004\n");
    Path relative = Path.of("").toAbsolutePath().relativize(dir);
    assertThat(ConfigLoader.fromEnvironment(Map.of(), relative).port()).isEqualTo(9004);
  }

  @Test
  void tracing_is_off_by_default_and_on_with_an_otlp_endpoint_from_dotenv(@TempDir Path dir) throws Exception {
    assertThat(ConfigLoader.fromMap(Map.of()).tracing().enabled()).isFalse();
    assertThat(ConfigLoader.fromMap(Map.of()).tracing().content()).isFalse();
    Files.writeString(dir.resolve(".env"), """
        OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318
        OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic c2VjcmV0
        ARYABHATTA_TRACE_CONTENT=true
        """);
    Config config = ConfigLoader.fromEnvironment(Map.of("OTEL_SERVICE_NAME", "agents"), dir);
    assertThat(config.tracing().enabled()).isTrue();
    assertThat(config.tracing().content()).isTrue();
    assertThat(config.tracing().otel()).containsEntry("OTEL_SERVICE_NAME", "agents")
        .containsEntry("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
    // The headers carry the collector's credentials: the logged config never shows them.
    assertThat(config.toString()).contains("tracing=on with content").doesNotContain("c2VjcmV0");
    assertThat(ConfigLoader.fromMap(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces",
        "OTEL_SDK_DISABLED", "true")).tracing().enabled()).isFalse();
  }

  @Test
  void trace_content_must_be_true_or_false() {
    assertThatThrownBy(() -> ConfigLoader.fromMap(Map.of("ARYABHATTA_TRACE_CONTENT", "yes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("ARYABHATTA_TRACE_CONTENT");
  }
}
