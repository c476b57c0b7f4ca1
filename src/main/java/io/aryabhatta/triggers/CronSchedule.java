package io.aryabhatta.triggers;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.aryabhatta.errors.DomainException;
import io.aryabhatta.errors.FieldError;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A schedule's cron expression in its time zone: five fields (Unix cron: minute, hour, day of
 * month, month, day of week), or six with a leading seconds field.
 */
public final class CronSchedule {
  private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser WITH_SECONDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));

  private final ExecutionTime times;
  private final ZoneId zone;

  private CronSchedule(ExecutionTime times, ZoneId zone) {
    this.times = times;
    this.zone = zone;
  }

  /**
   * The schedule of {@code expression} in {@code timeZone} (an IANA name such as
   * {@code Europe/Berlin}), refused field by field when either is invalid or it never fires.
   */
  public static CronSchedule of(String expression, String timeZone) {
    List<FieldError> errors = new ArrayList<>();
    Optional<ExecutionTime> times = parse(expression, errors);
    Optional<ZoneId> zone = zone(timeZone, errors);
    if (!errors.isEmpty()) {
      throw new DomainException.ValidationFailed(errors);
    }
    CronSchedule schedule = new CronSchedule(times.orElseThrow(), zone.orElseThrow());
    if (schedule.nextAfter(Instant.now()).isEmpty()) {
      throw new DomainException.ValidationFailed("cron", "this expression never fires");
    }
    return schedule;
  }

  private static Optional<ExecutionTime> parse(String expression, List<FieldError> errors) {
    if (expression == null || expression.isBlank()) {
      errors.add(new FieldError("cron", "is required for a schedule (e.g. \"0 9 * * 1-5\")"));
      return Optional.empty();
    }
    int fields = expression.strip().split("\\s+").length;
    CronParser parser = fields == 5 ? UNIX : fields == 6 ? WITH_SECONDS : null;
    if (parser == null) {
      errors.add(new FieldError("cron", "must have 5 fields (minute hour day-of-month month day-of-week) or 6 "
          + "(a seconds field first); this one has " + fields));
      return Optional.empty();
    }
    try {
      Cron cron = parser.parse(expression.strip());
      cron.validate();
      return Optional.of(ExecutionTime.forCron(cron));
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError("cron", "is not a valid cron expression: " + e.getMessage()));
      return Optional.empty();
    }
  }

  private static Optional<ZoneId> zone(String timeZone, List<FieldError> errors) {
    if (timeZone == null || !ZoneId.getAvailableZoneIds().contains(timeZone)) {
      errors.add(new FieldError("time_zone", "must be an IANA time zone name such as \"UTC\" or \"Europe/Berlin\""));
      return Optional.empty();
    }
    return Optional.of(ZoneId.of(timeZone));
  }

  /** The first tick strictly after {@code instant}, if the expression fires again. */
  public Optional<Instant> nextAfter(Instant instant) {
    return times.nextExecution(ZonedDateTime.ofInstant(instant, zone)).map(ZonedDateTime::toInstant);
  }

  /** Up to {@code count} ticks from {@code first} on, {@code first} included. */
  public List<Instant> ticksFrom(Instant first, int count) {
    List<Instant> ticks = new ArrayList<>();
    Optional<Instant> tick = Optional.ofNullable(first);
    while (tick.isPresent() && ticks.size() < count) {
      ticks.add(tick.get());
      tick = nextAfter(tick.get());
    }
    return ticks;
  }
}
