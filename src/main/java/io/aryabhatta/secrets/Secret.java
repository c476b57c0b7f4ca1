package io.aryabhatta.secrets;

import java.time.Instant;

/** A secret as it may be shown: its name and timestamps, never its value. */
public record Secret(String name, Instant createdAt, Instant updatedAt) {}
