package io.aryabhatta.engine;

/** A process's claim on a run; {@code epoch} fences every journal write made under it. */
public record Lease(String runId, String owner, long epoch) {}
