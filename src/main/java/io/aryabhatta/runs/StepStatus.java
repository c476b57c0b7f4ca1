package io.aryabhatta.runs;

import com.fasterxml.jackson.annotation.JsonValue;
import io.aryabhatta.db.WireName;
import java.util.EnumSet;
import java.util.Set;

/**
 * Where a step of the journal is. A model call is {@code started} until its answer is recorded. A
 * tool call is {@code pending} when the model asks for it (committed before anything runs), may
 * wait for a person ({@code awaiting_approval}, {@code awaiting_output} for client tools), is
 * {@code started} (committed just before it executes), and ends {@code completed}, {@code failed},
 * {@code rejected} or {@code cancelled}. {@code unknown_outcome}: the call was executed, or may
 * have been, and nobody knows with what result; the run waits for a person while the step has no
 * end time, and a step that ended so keeps that status: the platform never calls it "not executed".
 */
public enum StepStatus implements WireName {
  PENDING,
  AWAITING_APPROVAL,
  APPROVED,
  AWAITING_OUTPUT,
  /** A sub-agent's call: its child run is created, and the call waits for it to end. */
  AWAITING_CHILD,
  STARTED,
  COMPLETED,
  FAILED,
  REJECTED,
  CANCELLED,
  UNKNOWN_OUTCOME;

  /** The status stored as {@code wire}. */
  public static StepStatus of(String wire) {
    return WireName.parse(StepStatus.class, wire);
  }

  /** What changes a step's status. */
  public enum Change {
    /** The call waits for a person's approval. */
    APPROVAL_ASKED,
    /** A client tool: the call waits for the API caller's output. */
    OUTPUT_ASKED,
    /** A sub-agent's call: its child run is created (found again, if it was already). */
    CHILD_STARTED,
    /** The child run ended: its output is the call's result (its failure, the call's error). */
    CHILD_COMPLETED,
    CHILD_FAILED,
    /** A person approved the call, or chose to execute a call of unknown outcome again. */
    APPROVED,
    REJECTED,
    /** Committed just before the tool executes; again when an idempotent call is executed again after a crash. */
    EXECUTION_STARTED,
    /**
     * The model answered, the tool returned, the API caller sent a client tool's output, or a person
     * settled a call of unknown outcome by giving its result.
     */
    SUCCEEDED,
    /**
     * The model call or the tool failed, or the call was refused before it ran (an unknown tool, bad
     * arguments; or, approved, a call of an agent that cannot start its child).
     */
    FAILED,
    /** The call failed in a way that leaves its effect unknown, or its run ended while it was started. */
    OUTCOME_LOST,
    /** A person chose not to execute a call of unknown outcome again: it ends, its outcome still unknown. */
    SETTLED_UNKNOWN,
    /** The run was cancelled before the step ran (or during its model call). */
    RUN_CANCELLED,
    /** The run failed before the step ran. */
    RUN_FAILED
  }

  /** Not yet executed: a run that ends now ends these as not executed. */
  private static final Set<StepStatus> NOT_EXECUTED = EnumSet.of(PENDING, AWAITING_APPROVAL, APPROVED, AWAITING_OUTPUT,
      AWAITING_CHILD);

  /** Every change of a step's status, for model calls and tool calls alike: a change not listed here is refused. */
  static final StateTable<StepStatus, Change> TRANSITIONS = new StateTable<>(StepStatus.class, Change.class)
      .add(EnumSet.of(PENDING, AWAITING_APPROVAL), Change.APPROVAL_ASKED, AWAITING_APPROVAL)
      .add(EnumSet.of(PENDING, AWAITING_OUTPUT), Change.OUTPUT_ASKED, AWAITING_OUTPUT)
      .add(EnumSet.of(PENDING, APPROVED, AWAITING_CHILD), Change.CHILD_STARTED, AWAITING_CHILD)
      .add(AWAITING_CHILD, Change.CHILD_COMPLETED, COMPLETED)
      .add(AWAITING_CHILD, Change.CHILD_FAILED, FAILED)
      .add(EnumSet.of(AWAITING_APPROVAL, UNKNOWN_OUTCOME), Change.APPROVED, APPROVED)
      .add(AWAITING_APPROVAL, Change.REJECTED, REJECTED)
      .add(EnumSet.of(PENDING, APPROVED, STARTED), Change.EXECUTION_STARTED, STARTED)
      .add(EnumSet.of(STARTED, AWAITING_OUTPUT, UNKNOWN_OUTCOME), Change.SUCCEEDED, COMPLETED)
      .add(EnumSet.of(PENDING, APPROVED, STARTED), Change.FAILED, FAILED)
      .add(EnumSet.of(STARTED, UNKNOWN_OUTCOME), Change.OUTCOME_LOST, UNKNOWN_OUTCOME)
      .add(UNKNOWN_OUTCOME, Change.SETTLED_UNKNOWN, UNKNOWN_OUTCOME)
      .add(EnumSet.copyOf(union(NOT_EXECUTED, STARTED)), Change.RUN_CANCELLED, CANCELLED)
      .add(EnumSet.copyOf(union(NOT_EXECUTED, STARTED)), Change.RUN_FAILED, FAILED);

  private static Set<StepStatus> union(Set<StepStatus> statuses, StepStatus more) {
    Set<StepStatus> all = EnumSet.copyOf(statuses);
    all.add(more);
    return all;
  }

  /** As the API and the database spell it, e.g. {@code unknown_outcome}. */
  @JsonValue
  @Override
  public String toString() {
    return wire();
  }

  /** The status {@code change} leads to from this one; a change the table does not allow is a bug. */
  public StepStatus after(Change change) {
    return TRANSITIONS.next(this, change);
  }
}
