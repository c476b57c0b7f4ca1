package io.aryabhatta.embed;

/**
 * Thrown by a {@link JavaTool} function to fail the call with a message for the model (for
 * example "no order 123; order ids look like A-1234"). The run goes on: the model reads the
 * message as the tool's error and decides what to do next.
 */
public final class ToolError extends RuntimeException {
  /** @param messageForTheModel what the model reads; it is also stored in the run's journal */
  public ToolError(String messageForTheModel) {
    super(messageForTheModel, null, false, false);
  }
}
