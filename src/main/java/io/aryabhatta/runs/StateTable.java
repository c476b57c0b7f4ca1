package io.aryabhatta.runs;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The allowed transitions of a state machine, read as a table: {@code add(from, event, to)}. A
 * transition not in the table is a bug of the engine, refused before anything is written.
 */
public final class StateTable<S extends Enum<S>, E extends Enum<E>> {
  private final Class<S> states;
  private final Map<E, Map<S, S>> transitions;

  StateTable(Class<S> states, Class<E> events) {
    this.states = states;
    this.transitions = new EnumMap<>(events);
  }

  StateTable<S, E> add(S from, E event, S to) {
    S previous = transitions.computeIfAbsent(event, e -> new EnumMap<>(states)).put(from, to);
    if (previous != null) {
      throw new IllegalArgumentException(event + " from " + from + " is in the table twice");
    }
    return this;
  }

  /** {@code event} from every state of {@code from} leads to {@code to}. */
  StateTable<S, E> add(Set<S> from, E event, S to) {
    from.forEach(state -> add(state, event, to));
    return this;
  }

  /** The state {@code event} leads to from {@code from}. */
  S next(S from, E event) {
    S to = transitions.getOrDefault(event, Map.of()).get(from);
    if (to == null) {
      throw new IllegalStateException(event + " is not allowed from " + from);
    }
    return to;
  }

  /** Every state {@code event} may happen in: the guard of the statement that makes it. */
  public Set<S> sources(E event) {
    Map<S, S> byFrom = transitions.get(event);
    return byFrom == null ? EnumSet.noneOf(states) : EnumSet.copyOf(byFrom.keySet());
  }

  /** The state {@code event} leads to (the same from every state it may happen in). */
  public S target(E event) {
    Set<S> targets = EnumSet.noneOf(states);
    transitions.getOrDefault(event, Map.of()).values().forEach(targets::add);
    if (targets.size() != 1) {
      throw new IllegalStateException(event + " leads to " + targets);
    }
    return targets.iterator().next();
  }
}
