package io.aryabhatta.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the external PostgreSQL lives: parsed from a libpq URI ({@code postgresql://user:pass@host:5432/db})
 * or taken from a {@code jdbc:postgresql://} URL.
 *
 * @param jdbcUrl the JDBC URL without credentials
 * @param user the user, or null to let the driver decide (e.g. from the JDBC URL's parameters)
 * @param password the password, or null
 */
public record DatabaseUrl(String jdbcUrl, String user, String password) {

  // user:password@ is optional; the password may contain anything percent-encoded, and '@' unencoded
  // is tolerated because people paste such passwords: the last '@' before the host separates them.
  private static final Pattern LIBPQ_URI =
      Pattern.compile("^postgres(?:ql)?://(?:(?<userinfo>.*)@)?(?<hostport>[^/?#@]*)(?:/(?<db>[^?#]*))?(?:\\?(?<query>[^#]*))?$");

  public static DatabaseUrl parse(String variable, String value) {
    String text = value.strip();
    if (text.startsWith("jdbc:postgresql:")) {
      return fromJdbc(variable, text);
    }
    Matcher m = LIBPQ_URI.matcher(text);
    if (!m.matches()) {
      throw new ConfigException(variable, "expected postgresql://user:password@host:5432/database or jdbc:postgresql://…, got something else");
    }
    String user = null;
    String password = null;
    String userinfo = m.group("userinfo");
    if (userinfo != null && !userinfo.isEmpty()) {
      int colon = userinfo.indexOf(':');
      user = decode(variable, colon < 0 ? userinfo : userinfo.substring(0, colon));
      password = colon < 0 ? null : decode(variable, userinfo.substring(colon + 1));
    }
    String hostport = m.group("hostport");
    if (hostport.isEmpty()) {
      hostport = "localhost";
    }
    if (!hostport.matches("(\\[[0-9a-fA-F:.]+]|[A-Za-z0-9._-]+)(:\\d{1,5})?")) {
      throw new ConfigException(variable, "the host part '" + hostport + "' is not a host name or host:port");
    }
    // As in libpq, a missing database name means the user's name.
    String db = m.group("db") == null || m.group("db").isEmpty()
        ? (user == null ? "postgres" : user)
        : decode(variable, m.group("db"));
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(hostport).append('/').append(encodePath(db));
    String query = m.group("query");
    if (query != null && !query.isEmpty()) {
      jdbc.append('?').append(query);
    }
    return new DatabaseUrl(jdbc.toString(), user, password);
  }

  private static DatabaseUrl fromJdbc(String variable, String url) {
    Properties props = org.postgresql.Driver.parseURL(url, new Properties());
    if (props == null) {
      throw new ConfigException(variable, "not a valid jdbc:postgresql:// URL");
    }
    return new DatabaseUrl(url, null, null);
  }

  private static String decode(String variable, String part) {
    try {
      return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(variable, "contains a malformed %-escape");
    }
  }

  private static String encodePath(String db) {
    return java.net.URLEncoder.encode(db, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The URL as it may be logged: no password, even one given as a JDBC URL parameter. */
  public String describe() {
    String safe = jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
    return user == null ? safe : safe + " (user " + user + ")";
  }

  @Override
  public String toString() {
    return describe();
  }
}
