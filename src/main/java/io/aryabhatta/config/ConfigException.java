package io.aryabhatta.config;

/** A configuration value that prevents startup; the message names the variable. */
public final class ConfigException extends RuntimeException {
  private final String variable;

  public ConfigException(String variable, String problem) {
    super(variable + ": " + problem);
    this.variable = variable;
  }

  public String variable() {
    return variable;
  }
}
