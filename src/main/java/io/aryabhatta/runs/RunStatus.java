package io.aryabhatta.runs;

import com.fasterxml.jackson.annotation.JsonValue;
import io.aryabhatta.db.WireName;
import java.util.EnumSet;
import java.util.Set;

/** Where a run is: waiting for a node, executing, waiting for a person or for its child runs, or ended. */
public enum RunStatus implements WireName {
  QUEUED,
  RUNNING,
  REQUIRES_ACTION,
  /** Waiting for the child runs its sub-agent calls started; no node holds it. */
  WAITING,
  COMPLETED,
  FAILED,
  CANCELLED;

  public static RunStatus of(String wire) {
    return WireName.parse(RunStatus.class, wire);
  }

  /** What changes a run's status. */
  public enum Change {
    /** A node takes a queued run. */
    STARTED,
    /** A tool call waits for a person (an approval, a client tool's output, an unknown outcome). */
    PAUSED,
    /** The person answered everything the run waited for: it is queued again. */
    ANSWERED,
    /** Its tool calls of sub-agents started child runs: it waits for them, without a node. */
    CHILDREN_STARTED,
    /**
     * The last child it waited for ended: it is queued again (also from {@code requires_action}, when
     * that child was the one waiting for a person, e.g. cancelled there).
     */
    CHILDREN_ENDED,
    /**
     * One of its children (or theirs) waits for a person: it shows which, in its own
     * {@code required_action}; again whenever the list of those children changes.
     */
    CHILD_PAUSED,
    /** None of its children waits for a person any more: it waits for them to end, as before. */
    CHILDREN_ANSWERED,
    /** The model gave its final answer. */
    COMPLETED,
    FAILED,
    CANCELLED
  }

  static final Set<RunStatus> ACTIVE = EnumSet.of(QUEUED, RUNNING, REQUIRES_ACTION, WAITING);
  /** What a node may take: a queued run to start, or a running one whose lease ran out to resume. */
  public static final Set<RunStatus> CLAIMABLE = EnumSet.of(QUEUED, RUNNING);
  /**
   * Ended, or waiting for a person: a client waiting on the run can stop waiting. Not a run
   * waiting for its children: it goes on by itself.
   */
  public static final Set<RunStatus> SETTLED = EnumSet.complementOf(EnumSet.of(QUEUED, RUNNING, WAITING));

  /** Every change of a run's status: a change not listed here is refused. */
  public static final StateTable<RunStatus, Change> TRANSITIONS = new StateTable<>(RunStatus.class, Change.class)
      .add(QUEUED, Change.STARTED, RUNNING)
      .add(RUNNING, Change.PAUSED, REQUIRES_ACTION)
      .add(REQUIRES_ACTION, Change.ANSWERED, QUEUED)
      .add(RUNNING, Change.CHILDREN_STARTED, WAITING)
      .add(EnumSet.of(WAITING, REQUIRES_ACTION), Change.CHILDREN_ENDED, QUEUED)
      .add(EnumSet.of(WAITING, REQUIRES_ACTION), Change.CHILD_PAUSED, REQUIRES_ACTION)
      .add(REQUIRES_ACTION, Change.CHILDREN_ANSWERED, WAITING)
      .add(RUNNING, Change.COMPLETED, COMPLETED)
      .add(ACTIVE, Change.FAILED, FAILED)
      .add(ACTIVE, Change.CANCELLED, CANCELLED);

  /** As the API and the database spell it, e.g. {@code requires_action}. */
  @JsonValue
  @Override
  public String toString() {
    return wire();
  }

  /** Not ended: a node may still work on it, or a person act on it. */
  public boolean isActive() {
    return ACTIVE.contains(this);
  }

  public boolean isEnded() {
    return !isActive();
  }

  /** Ended, or waiting for a person: a client waiting on the run can stop waiting. */
  public boolean isSettled() {
    return SETTLED.contains(this);
  }

  /** The status {@code change} leads to from this one; a change the table does not allow is a bug. */
  RunStatus after(Change change) {
    return TRANSITIONS.next(this, change);
  }

  /** The states the database filters on, as stored. */
  public static String sqlList(Set<RunStatus> statuses) {
    return String.join(", ", statuses.stream().map(s -> "'" + s.wire() + "'").toList());
  }
}
