package io.aryabhatta.errors;

/** One invalid field of a request: its path (such as {@code tools[1]}) and what is wrong with it. */
public record FieldError(String field, String message) {}
