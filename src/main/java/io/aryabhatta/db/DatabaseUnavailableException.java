package io.aryabhatta.db;

/** The database cannot be started, reached or migrated; startup stops with this message. */
public final class DatabaseUnavailableException extends RuntimeException {
  public DatabaseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
