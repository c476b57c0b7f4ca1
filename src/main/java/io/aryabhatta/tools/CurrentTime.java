package io.aryabhatta.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aryabhatta.json.Json;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The {@code current_time} built-in: the current time in an IANA time zone (default UTC). */
final class CurrentTime {
  private static final Map<String, String> ZONES_BY_LOWER_CASE = ZoneId.getAvailableZoneIds().stream()
      .collect(Collectors.toUnmodifiableMap(id -> id.toLowerCase(Locale.ROOT), Function.identity(), (a, b) -> a));

  private final Clock clock;
  private final ObjectMapper mapper;

  CurrentTime(Clock clock, ObjectMapper mapper) {
    this.clock = clock;
    this.mapper = mapper;
  }

  /**
   * @param zoneName an IANA zone such as {@code Asia/Kolkata} (any case), an offset such as
   *     {@code +05:30}, or null for UTC
   * @return JSON text: {@code {"timezone", "iso", "unix", "day_of_week"}}
   */
  String now(String zoneName) throws UnknownZone {
    ZoneId zone = zoneName == null || zoneName.isBlank() ? ZoneId.of("UTC") : zone(zoneName.trim());
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    ZonedDateTime local = now.atZone(zone);
    ObjectNode result = mapper.createObjectNode()
        .put("timezone", zone.getId())
        .put("iso", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(local))
        .put("unix", now.getEpochSecond())
        .put("day_of_week", local.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
    return Json.write(mapper, result);
  }

  private static ZoneId zone(String name) throws UnknownZone {
    Optional<String> known = Optional.ofNullable(ZONES_BY_LOWER_CASE.get(name.toLowerCase(Locale.ROOT)));
    try {
      return ZoneId.of(known.orElse(name.toUpperCase(Locale.ROOT)), ZoneId.SHORT_IDS);
    } catch (DateTimeException e) {
      throw new UnknownZone("unknown time zone '" + name
          + "'; use an IANA name such as 'Europe/Berlin', 'Asia/Kolkata' or 'America/New_York', or UTC");
    }
  }

  /** The requested zone does not exist. */
  static final class UnknownZone extends Exception {
    UnknownZone(String message) {
      super(message);
    }
  }
}
