package io.aryabhatta.db;

import java.util.Locale;

/**
 * A state stored in a text column and shown by the API under one name: its constant's name in
 * lower case ({@code requires_action}). Bound to SQL by that name, in a batch and through JDBI alike.
 */
public interface WireName {
  String name();

  default String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The constant of {@code type} spelled {@code wire}. */
  static <E extends Enum<E> & WireName> E parse(Class<E> type, String wire) {
    return Enum.valueOf(type, wire.toUpperCase(Locale.ROOT));
  }
}
