package io.aryabhatta.embed;

import io.aryabhatta.runs.Message;
import io.aryabhatta.runs.Run;
import io.aryabhatta.runs.RunEvent;
import io.aryabhatta.runs.RunService.Decision;
import io.aryabhatta.runs.RunService.ToolOutput;
import io.aryabhatta.runs.Step;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A run started with {@link Aryabhatta#run} or found with {@link Aryabhatta#attach}. The run lives
 * in the database, not in this object: it goes on if the handle is dropped, and after a restart
 * {@link Aryabhatta#attach} finds it again.
 */
public final class RunHandle {
  private final Aryabhatta engine;
  private final String id;
  private final String conversationId;

  RunHandle(Aryabhatta engine, Run run) {
    this.engine = engine;
    this.id = run.id();
    this.conversationId = run.conversationId();
  }

  public String id() {
    return id;
  }

  public String conversationId() {
    return conversationId;
  }

  /** The run as it is now: status, output, error, usage, required action. */
  public Run current() {
    return engine.runOf(id);
  }

  /**
   * Waits until the run has settled — {@code completed}, {@code failed}, {@code cancelled}, or
   * {@code requires_action} (waiting for {@link #approve} or {@link #submitToolOutputs}) — and
   * returns it.
   *
   * @throws TimeoutException when the run has not settled within {@code timeout}; it goes on
   */
  public Run await(Duration timeout) throws TimeoutException, InterruptedException {
    return engine.awaitSettled(id, timeout);
  }

  /**
   * Decides on the tool calls the run waits to have approved (every one of them, by
   * {@code tool_call_id}); a rejected call goes back to the model as rejected. The run continues.
   */
  public Run approve(List<Decision> decisions) {
    return engine.runs().approve(engine.caller(), id, decisions);
  }

  /** Answers the client tool calls the run waits for (every one of them). The run continues. */
  public Run submitToolOutputs(List<ToolOutput> outputs) {
    return engine.runs().submitToolOutputs(engine.caller(), id, outputs);
  }

  /**
   * Cancels the run: at once if nobody is executing it, else at the next step boundary (a model
   * call in flight is interrupted, an executing tool finishes first).
   */
  public Run cancel() {
    return engine.runs().cancel(engine.caller(), id);
  }

  /** The run's journal: its model calls and tool calls, in order. */
  public List<Step> steps() {
    return engine.runStore().steps(id);
  }

  /** The messages of the run's conversation, this run's and earlier ones, in order. */
  public List<Message> messages() {
    return engine.runStore().messages(conversationId, 0, Integer.MAX_VALUE);
  }

  /** The run's events after {@code afterId} (0 for all), as a blocking iterator; see {@link RunEvents}. */
  public RunEvents events(long afterId) {
    return engine.events(id, afterId);
  }

  /** The run's events after {@code afterId}, delivered to {@code listener}; see {@link EventSubscription}. */
  public EventSubscription events(long afterId, Consumer<RunEvent> listener) {
    return engine.events(id, afterId, listener);
  }
}
