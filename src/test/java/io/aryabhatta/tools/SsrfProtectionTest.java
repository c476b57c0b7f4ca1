package io.aryabhatta.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Dns;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * HTTP tools and http_get must not reach internal addresses. Blocked targets are refused before
 * any connection: nothing here sends traffic beyond loopback, and no test needs external DNS.
 */
class SsrfProtectionTest {
  private final ObjectMapper mapper = Json.mapper();
  private final ToolContext context = new ToolContext("ws-1", "call-1");
  /** Names the tests resolve without real DNS; anything else is refused. */
  private final List<String> lookups = new CopyOnWriteArrayList<>();
  private final Dns fakeDns = host -> {
    lookups.add(host);
    return switch (host) {
      case "intranet.example" -> List.of(address("10.1.2.3"));
      case "mixed.example" -> List.of(address("203.0.113.10"), address("127.0.0.1"));
      case "mapped.example" -> List.of(address("::ffff:169.254.169.254"));
      case "internal.test" -> List.of(address("127.0.0.1"));
      default -> Dns.SYSTEM.lookup(host);
    };
  };

  @Test
  void internal_targets_are_blocked_without_an_allowlist() throws IOException {
    ToolExecutor executor = executor(List.of());
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "secret data")) {
      int port = target.port();
      Map<String, String> blocked = Map.ofEntries(
          Map.entry("http://127.0.0.1:" + port + "/", "127.0.0.1 is a loopback address"),
          Map.entry("http://[::1]:" + port + "/", "::1 is a loopback address"),
          Map.entry("http://[::ffff:127.0.0.1]:" + port + "/", "loopback"),
          Map.entry("http://0.0.0.0:" + port + "/", "unspecified"),
          Map.entry("http://localhost:" + port + "/", "localhost resolves to 127.0.0.1, a loopback address"),
          Map.entry("http://2130706433:" + port + "/", "not a standard IP address"),
          Map.entry("http://127.1:" + port + "/", "not a standard IP address"),
          Map.entry("http://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
          Map.entry("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata host name"),
          Map.entry("http://10.0.0.1/", "10.0.0.1 is a private address"),
          Map.entry("http://172.16.5.4/", "private"),
          Map.entry("http://192.168.1.1/", "private"),
          Map.entry("http://100.64.0.1/", "shared (CGNAT)"),
          Map.entry("http://224.0.0.1/", "multicast"),
          Map.entry("http://[fd00::1]/", "private (unique local)"),
          Map.entry("http://[fe80::1]/", "link-local"),
          Map.entry("http://intranet.example/", "intranet.example resolves to 10.1.2.3, a private address"),
          Map.entry("http://mixed.example/", "mixed.example resolves to 127.0.0.1, a loopback address"),
          Map.entry("http://mapped.example/", "link-local"));
      blocked.forEach((url, reason) -> {
        for (ToolOutcome outcome : List.of(httpTool(executor, url), httpGet(executor, url))) {
          assertThat(outcome.ok()).as(url).isFalse();
          assertThat(outcome.result()).as(url).startsWith("Blocked: ").contains(reason);
        }
      });
      assertThat(httpGet(executor, "http://127.0.0.1/").result()).contains("ARYABHATTA_HTTP_TOOL_ALLOWLIST");
      assertThat(target.received()).isEmpty();
      assertThat(lookups).doesNotContain("metadata.google.internal");
    }
  }

  @Test
  void a_redirect_from_an_allowed_target_to_an_internal_one_is_blocked() throws IOException {
    ToolExecutor executor = executor(List.of("127.0.0.1"));
    try (FakeTarget internal = FakeTarget.on("127.0.0.2", (exchange, request) -> FakeTarget.respond(exchange, 200, "text/plain", "internal"));
        FakeTarget target = FakeTarget.start((exchange, request) -> {
          switch (request.uri().getPath()) {
            case "/to-internal" -> FakeTarget.redirect(exchange, internal.url("/admin"));
            case "/to-metadata" -> FakeTarget.redirect(exchange, "http://169.254.169.254/latest/meta-data/");
            case "/to-private-name" -> FakeTarget.redirect(exchange, "http://intranet.example/");
            default -> FakeTarget.redirect(exchange, "/to-internal");
          }
        })) {
      assertThat(internal.url("/")).startsWith("http://127.0.0.2:");
      for (String path : List.of("/to-internal", "/hop", "/to-metadata", "/to-private-name")) {
        for (ToolOutcome outcome : List.of(httpTool(executor, target.url(path)), httpGet(executor, target.url(path)))) {
          assertThat(outcome.ok()).as(path).isFalse();
          assertThat(outcome.result()).as(path).startsWith("Blocked: ");
        }
      }
      assertThat(internal.received()).isEmpty();
      assertThat(target.received()).isNotEmpty();
    }
  }

  @Test
  void an_allowlisted_address_is_reachable() throws IOException {
    ToolExecutor executor = executor(List.of("127.0.0.0/8"));
    try (FakeTarget target = FakeTarget.replying(200, "text/plain", "hello")) {
      assertThat(httpTool(executor, target.url("/")).result()).isEqualTo("hello");
      assertThat(httpGet(executor, "http://localhost:" + target.port() + "/").result()).isEqualTo("hello");
    }
  }

  @Test
  void an_allowlisted_name_is_reachable_at_the_address_that_was_checked() throws IOException {
    try (FakeTarget target = FakeTarget.start((exchange, request) -> FakeTarget.respond(exchange, 200, "text/plain",
        "host=" + request.header("Host")))) {
      String url = "http://internal.test:" + target.port() + "/";
      ToolOutcome allowed = httpGet(executor(List.of("internal.test")), url);
      assertThat(allowed.result()).isEqualTo("host=internal.test:" + target.port());
      ToolOutcome notListed = httpGet(executor(List.of()), url);
      assertThat(notListed.result()).startsWith("Blocked: internal.test resolves to 127.0.0.1");
      assertThat(target.received()).hasSize(1);
    }
  }

  @Test
  void allowlist_entries_must_be_hosts_addresses_or_cidrs() {
    new AddressGuard(List.of("127.0.0.1", " 10.0.0.0/8 ", "fd00::/8", "[::1]", "db.internal", "Example.COM.", ""));
    for (String bad : List.of("10.0.0.0/33", "1.2.3.4.5", "http://x.example", "300.1.1.1", "fd00::/129", "bad host", "127.1")) {
      assertThatThrownBy(() -> new AddressGuard(List.of(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("ARYABHATTA_HTTP_TOOL_ALLOWLIST")
          .hasMessageContaining(bad.trim());
    }
  }

  @Test
  void addresses_are_classified() throws UnknownHostException {
    AddressGuard guard = new AddressGuard(List.of("10.20.0.0/16", "fd12::1"));
    Map<String, String> internal = Map.ofEntries(
        Map.entry("127.0.0.1", "loopback"), Map.entry("127.255.0.9", "loopback"), Map.entry("::1", "loopback"),
        Map.entry("169.254.169.254", "link-local (cloud metadata)"), Map.entry("10.0.0.1", "private"),
        Map.entry("172.31.255.255", "private"), Map.entry("192.168.0.1", "private"),
        Map.entry("100.100.100.200", "shared (CGNAT)"), Map.entry("0.0.0.0", "unspecified"), Map.entry("::", "unspecified"),
        Map.entry("255.255.255.255", "broadcast"), Map.entry("239.1.1.1", "multicast"), Map.entry("ff02::1", "multicast"),
        Map.entry("fe80::1", "link-local"), Map.entry("fc00::1", "private (unique local)"),
        Map.entry("::ffff:10.0.0.1", "private"), Map.entry("::7f00:1", "loopback"),
        Map.entry("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"), Map.entry("2002:a00:1::", "private"));
    internal.forEach((text, reason) ->
        assertThat(guard.blockReason(AddressGuard.parseLiteral(text).orElseThrow())).as(text).contains(reason));
    for (String open : List.of("8.8.8.8", "203.0.113.10", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
        "10.20.3.4", "fd12::1", "::ffff:8.8.8.8")) {
      assertThat(guard.blockReason(AddressGuard.parseLiteral(open).orElseThrow())).as(open).isEmpty();
    }
  }

  private ToolExecutor executor(List<String> allowlist) {
    return new ToolExecutor(new OkHttpClient(), mapper, (workspace, name) -> Optional.empty(),
        new AddressGuard(allowlist, fakeDns), Clock.systemUTC());
  }

  private ToolOutcome httpTool(ToolExecutor executor, String url) {
    ToolDefinition tool = new ToolDefinition("t1", "ws-1", "fetch", "http", "", mapper.createObjectNode(),
        new HttpToolSpec("GET", url, Map.of(), Map.of(), null, 5_000), true, false);
    return executor.execute(tool, mapper.createObjectNode(), context);
  }

  private ToolOutcome httpGet(ToolExecutor executor, String url) {
    return executor.execute(new ToolDefinition(null, null, "http_get", "builtin", "", null, null, true, false),
        mapper.createObjectNode().put("url", url), context);
  }

  private static InetAddress address(String literal) {
    return AddressGuard.parseLiteral(literal).orElseThrow();
  }
}
