package io.aryabhatta.tools;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Dns;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * Keeps HTTP tools away from internal networks (SSRF): loopback, link-local (cloud metadata),
 * private, shared (CGNAT), multicast, unspecified and reserved addresses, and cloud metadata host
 * names, unless listed in {@code ARYABHATTA_HTTP_TOOL_ALLOWLIST}.
 *
 * <p>It is an OkHttp {@link Dns}: a host name is resolved once, every resolved address is checked,
 * and OkHttp connects only to the addresses returned here, so a DNS answer cannot change between
 * the check and the connection (DNS rebinding). OkHttp does not call {@code Dns} for IP-literal
 * hosts, so {@link #checkUrl} must be called before every request, redirects included.
 *
 * <p>Allowlist entries: a host name (exact, case-insensitive; whatever it resolves to is trusted),
 * an IP address, or a CIDR block, IPv4 or IPv6. An address entry lets that address through however
 * it is reached (by literal or through any name resolving only to allowed addresses).
 */
public final class AddressGuard implements Dns {
  /**
   * A client of {@code base} that reaches only what this guard allows: it resolves through the
   * guard, uses no proxy (a proxy would resolve and connect on our behalf, out of the guard's
   * sight), follows no redirect (each hop is checked by its caller), and never retries on its own
   * (a silent retry could repeat a side effect; every attempt is the caller's, and recorded).
   */
  public OkHttpClient.Builder guardedClient(OkHttpClient base) {
    return base.newBuilder()
        .dns(this)
        .proxy(Proxy.NO_PROXY)
        .followRedirects(false)
        .followSslRedirects(false)
        .retryOnConnectionFailure(false);
  }

  /** Names that reach a cloud instance's metadata service without going through an IP literal. */
  private static final Set<String> METADATA_HOSTS = Set.of(
      "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
      "instance-data.ec2.internal", "metadata.azure.internal");

  private static final Pattern DOTTED_QUAD =
      Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  /** What OkHttp treats as an IP literal (and then resolves with InetAddress, bypassing Dns). */
  private static final Pattern OKHTTP_IP_LITERAL =
      Pattern.compile("([0-9a-fA-F]*:[0-9a-fA-F:.]*)|([\\d.]+)");
  private static final Pattern HOST_NAME = Pattern.compile(
      "[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");

  private static final List<Cidr> BLOCKED = List.of(
      Cidr.parse("0.0.0.0/8", "unspecified"),
      Cidr.parse("10.0.0.0/8", "private"),
      Cidr.parse("100.64.0.0/10", "shared (CGNAT)"),
      Cidr.parse("127.0.0.0/8", "loopback"),
      Cidr.parse("169.254.0.0/16", "link-local (cloud metadata)"),
      Cidr.parse("172.16.0.0/12", "private"),
      Cidr.parse("192.0.0.0/24", "reserved"),
      Cidr.parse("192.168.0.0/16", "private"),
      Cidr.parse("198.18.0.0/15", "reserved"),
      Cidr.parse("224.0.0.0/4", "multicast"),
      Cidr.parse("255.255.255.255/32", "broadcast"),
      Cidr.parse("240.0.0.0/4", "reserved"),
      Cidr.parse("::/128", "unspecified"),
      Cidr.parse("::1/128", "loopback"),
      Cidr.parse("fe80::/10", "link-local"),
      Cidr.parse("fec0::/10", "site-local"),
      Cidr.parse("fc00::/7", "private (unique local)"),
      Cidr.parse("ff00::/8", "multicast"),
      Cidr.parse("100::/64", "reserved"),
      Cidr.parse("2001::/32", "tunnel (Teredo)"));

  private final Set<String> allowedNames;
  private final List<Cidr> allowedAddresses;
  private final Dns resolver;

  /** A guard resolving names with the system resolver. */
  public AddressGuard(List<String> allowlist) {
    this(allowlist, Dns.SYSTEM);
  }

  /**
   * A guard resolving names with {@code resolver}.
   *
   * @throws IllegalArgumentException naming the first allowlist entry that is not a host name, IP
   *     address or CIDR block
   */
  public AddressGuard(List<String> allowlist, Dns resolver) {
    Set<String> names = new HashSet<>();
    List<Cidr> addresses = new ArrayList<>();
    for (String raw : allowlist) {
      String entry = raw.trim().toLowerCase(Locale.ROOT);
      if (entry.isEmpty()) {
        continue;
      }
      Optional<Cidr> cidr = parseAllowedAddress(entry);
      if (cidr.isPresent()) {
        addresses.add(cidr.get());
      } else if (!entry.contains(":") && !entry.matches("[\\d./]+") && HOST_NAME.matcher(stripDot(entry)).matches()) {
        names.add(stripDot(entry));
      } else {
        throw new IllegalArgumentException("ARYABHATTA_HTTP_TOOL_ALLOWLIST: '" + raw.trim()
            + "' is not a host name, IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8, db.internal)");
      }
    }
    this.allowedNames = Set.copyOf(names);
    this.allowedAddresses = List.copyOf(addresses);
    this.resolver = resolver;
  }

  /**
   * Checks what can be checked without DNS: metadata host names and IP-literal hosts. Host names
   * are checked when OkHttp resolves them through {@link #lookup}.
   */
  public void checkUrl(HttpUrl url) throws BlockedAddressException {
    String host = stripDot(url.host().toLowerCase(Locale.ROOT));
    if (allowedNames.contains(host)) {
      return;
    }
    if (METADATA_HOSTS.contains(host)) {
      throw blocked(host, "a cloud metadata host name");
    }
    if (OKHTTP_IP_LITERAL.matcher(host).matches()) {
      InetAddress address = parseLiteral(host)
          .orElseThrow(() -> new BlockedAddressException("Blocked: '" + host
              + "' is not a standard IP address; use the dotted form (e.g. 203.0.113.7)"));
      checkAddress(host + " is", address);
    }
  }

  /** Resolves {@code hostname} and returns its addresses only when every one of them may be reached. */
  @Override
  public List<InetAddress> lookup(String hostname) throws UnknownHostException {
    String host = stripDot(hostname.toLowerCase(Locale.ROOT));
    if (allowedNames.contains(host)) {
      return resolver.lookup(hostname);
    }
    if (METADATA_HOSTS.contains(host)) {
      throw blocked(host, "a cloud metadata host name");
    }
    List<InetAddress> addresses = List.copyOf(resolver.lookup(hostname));
    for (InetAddress address : addresses) {
      checkAddress(host + " resolves to " + address.getHostAddress() + ",", address);
    }
    return addresses;
  }

  /** Why {@code address} is blocked (its category, e.g. "loopback"), or empty when it may be reached. */
  public Optional<String> blockReason(InetAddress address) {
    if (allowedAddresses.stream().anyMatch(cidr -> cidr.contains(address))) {
      return Optional.empty();
    }
    Optional<String> category = category(address);
    if (category.isPresent()) {
      return category;
    }
    // IPv6 forms that carry an IPv4 address are judged by that address.
    return embeddedIpv4(address).flatMap(this::blockReason);
  }

  private void checkAddress(String subject, InetAddress address) throws BlockedAddressException {
    Optional<String> reason = blockReason(address);
    if (reason.isPresent()) {
      String article = "aeiou".indexOf(reason.get().charAt(0)) >= 0 ? " an " : " a ";
      throw new BlockedAddressException("Blocked: " + subject + article + reason.get()
          + " address. HTTP tools may only reach public addresses unless the target is listed in "
          + "ARYABHATTA_HTTP_TOOL_ALLOWLIST.");
    }
  }

  private static BlockedAddressException blocked(String host, String what) {
    return new BlockedAddressException("Blocked: " + host + " is " + what
        + ". HTTP tools may only reach public addresses unless the target is listed in "
        + "ARYABHATTA_HTTP_TOOL_ALLOWLIST.");
  }

  private static Optional<String> category(InetAddress address) {
    return BLOCKED.stream().filter(cidr -> cidr.contains(address)).map(Cidr::label).findFirst();
  }

  private static Optional<InetAddress> embeddedIpv4(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return Optional.empty();
    }
    byte[] b = address.getAddress();
    boolean firstTenZero = allZero(b, 0, 10);
    boolean mapped = firstTenZero && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    boolean compatible = firstTenZero && b[10] == 0 && b[11] == 0;
    boolean nat64 = (b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff
        && (b[3] & 0xff) == 0x9b && allZero(b, 4, 12);
    if (mapped || compatible || nat64) {
      return Optional.of(ipv4(b[12], b[13], b[14], b[15]));
    }
    boolean sixToFour = (b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02;
    if (sixToFour) {
      return Optional.of(ipv4(b[2], b[3], b[4], b[5]));
    }
    return Optional.empty();
  }

  private static boolean allZero(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static InetAddress ipv4(byte a, byte b, byte c, byte d) {
    try {
      return InetAddress.getByAddress(new byte[] {a, b, c, d});
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an IPv4 address", e);
    }
  }

  private static Optional<Cidr> parseAllowedAddress(String entry) {
    int slash = entry.indexOf('/');
    String literal = slash < 0 ? entry : entry.substring(0, slash);
    Optional<InetAddress> address = parseLiteral(literal);
    if (address.isEmpty()) {
      return Optional.empty();
    }
    int bits = address.get().getAddress().length * 8;
    int prefix = bits;
    if (slash >= 0) {
      String suffix = entry.substring(slash + 1);
      if (!suffix.matches("\\d{1,3}") || Integer.parseInt(suffix) > bits) {
        return Optional.empty();
      }
      prefix = Integer.parseInt(suffix);
    }
    return Optional.of(new Cidr(address.get().getAddress(), prefix, "allowlisted"));
  }

  /**
   * Parses an IPv4 dotted quad or an IPv6 literal, never consulting DNS. Shorthand IPv4 forms
   * ("127.1", "2130706433") are rejected: they are a classic way to disguise an address.
   */
  static Optional<InetAddress> parseLiteral(String text) {
    String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    Matcher quad = DOTTED_QUAD.matcher(literal);
    if (quad.matches()) {
      byte[] bytes = new byte[4];
      for (int i = 0; i < 4; i++) {
        int part = Integer.parseInt(quad.group(i + 1));
        if (part > 255) {
          return Optional.empty();
        }
        bytes[i] = (byte) part;
      }
      return Optional.of(ipv4(bytes[0], bytes[1], bytes[2], bytes[3]));
    }
    if (literal.contains(":") && literal.matches("[0-9a-fA-F:.]+")) {
      try {
        // Brackets make InetAddress insist on an IPv6 literal instead of falling back to DNS.
        return Optional.of(InetAddress.getByName("[" + literal + "]"));
      } catch (UnknownHostException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static String stripDot(String host) {
    return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
  }

  /** A request target that HTTP tools may not reach; the message is meant for the model and the user. */
  public static final class BlockedAddressException extends UnknownHostException {
    /** The guard's refusal within {@code t}: OkHttp may wrap it, or attach it to another exception. */
    public static Throwable in(Throwable t) {
      for (Throwable e = t; e != null; e = e.getCause()) {
        if (e instanceof BlockedAddressException) {
          return e;
        }
        for (Throwable suppressed : e.getSuppressed()) {
          Throwable found = in(suppressed);
          if (found != null) {
            return found;
          }
        }
      }
      return null;
    }

    public BlockedAddressException(String message) {
      super(message);
    }
  }

  private record Cidr(byte[] network, int prefix, String label) {
    static Cidr parse(String cidr, String label) {
      int slash = cidr.indexOf('/');
      InetAddress address = parseLiteral(cidr.substring(0, slash)).orElseThrow();
      return new Cidr(address.getAddress(), Integer.parseInt(cidr.substring(slash + 1)), label);
    }

    boolean contains(InetAddress address) {
      byte[] candidate = address.getAddress();
      if (candidate.length != network.length) {
        return false;
      }
      int fullBytes = prefix / 8;
      for (int i = 0; i < fullBytes; i++) {
        if (candidate[i] != network[i]) {
          return false;
        }
      }
      int remainingBits = prefix % 8;
      if (remainingBits == 0) {
        return true;
      }
      int mask = (0xff << (8 - remainingBits)) & 0xff;
      return (candidate[fullBytes] & mask) == (network[fullBytes] & mask);
    }
  }
}
