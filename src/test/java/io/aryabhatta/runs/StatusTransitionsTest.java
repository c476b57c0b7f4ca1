package io.aryabhatta.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The transition tables: every status is reachable, an ended run stays ended, and a change not listed is refused. */
class StatusTransitionsTest {

  @Test
  void every_run_status_is_reachable_from_queued_and_an_ended_run_changes_no_more() {
    assertThat(reachable(RunStatus.QUEUED, RunStatus.TRANSITIONS, RunStatus.Change.values()))
        .containsExactlyInAnyOrder(RunStatus.values());
    for (RunStatus ended : EnumSet.of(RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)) {
      assertThat(ended.isEnded()).isTrue();
      for (RunStatus.Change change : RunStatus.Change.values()) {
        assertThatThrownBy(() -> ended.after(change)).isInstanceOf(IllegalStateException.class);
      }
    }
  }

  @Test
  void a_run_completes_only_while_running_and_is_queued_again_only_after_waiting() {
    assertThat(RunStatus.TRANSITIONS.sources(RunStatus.Change.COMPLETED)).containsExactly(RunStatus.RUNNING);
    assertThat(RunStatus.TRANSITIONS.sources(RunStatus.Change.ANSWERED)).containsExactly(RunStatus.REQUIRES_ACTION);
    assertThatThrownBy(() -> RunStatus.QUEUED.after(RunStatus.Change.COMPLETED))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("COMPLETED is not allowed from queued");
  }

  @Test
  void every_step_status_is_reachable_and_a_finished_call_never_starts_again() {
    Set<StepStatus> reached = EnumSet.noneOf(StepStatus.class);
    reached.addAll(reachable(StepStatus.PENDING, StepStatus.TRANSITIONS, StepStatus.Change.values()));
    reached.addAll(reachable(StepStatus.STARTED, StepStatus.TRANSITIONS, StepStatus.Change.values()));
    assertThat(reached).containsExactlyInAnyOrder(StepStatus.values());
    for (StepStatus finished : EnumSet.of(StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.REJECTED,
        StepStatus.CANCELLED)) {
      assertThatThrownBy(() -> finished.after(StepStatus.Change.EXECUTION_STARTED))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void a_call_of_unknown_outcome_is_never_settled_as_not_executed() {
    assertThatThrownBy(() -> StepStatus.UNKNOWN_OUTCOME.after(StepStatus.Change.RUN_CANCELLED))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> StepStatus.UNKNOWN_OUTCOME.after(StepStatus.Change.REJECTED))
        .isInstanceOf(IllegalStateException.class);
    assertThat(StepStatus.UNKNOWN_OUTCOME.after(StepStatus.Change.SETTLED_UNKNOWN)).isEqualTo(StepStatus.UNKNOWN_OUTCOME);
  }

  @Test
  void statuses_are_spelled_as_the_api_and_the_database_spell_them() {
    assertThat(RunStatus.REQUIRES_ACTION.wire()).isEqualTo("requires_action");
    assertThat(RunStatus.of("requires_action")).isEqualTo(RunStatus.REQUIRES_ACTION);
    assertThat(StepStatus.UNKNOWN_OUTCOME.wire()).isEqualTo("unknown_outcome");
  }

  private static <S extends Enum<S>, E extends Enum<E>> Set<S> reachable(S start, StateTable<S, E> table, E[] changes) {
    Set<S> seen = EnumSet.of(start);
    Deque<S> todo = new ArrayDeque<>(seen);
    while (!todo.isEmpty()) {
      S from = todo.pop();
      for (E change : changes) {
        if (table.sources(change).contains(from) && seen.add(table.next(from, change))) {
          todo.push(table.next(from, change));
        }
      }
    }
    return seen;
  }
}
