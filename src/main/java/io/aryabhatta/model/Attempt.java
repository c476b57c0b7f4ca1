package io.aryabhatta.model;

/**
 * One HTTP attempt of a model call, recorded in the journal.
 *
 * @param statusCode the HTTP status, or null when no response arrived (connect error, timeout)
 * @param error what went wrong, or null for the successful attempt
 */
public record Attempt(Integer statusCode, String error, long durationMs) {}
