package io.aryabhatta.db;

/** A value stored in a text column as a name of its own (a state), bound and read by that name. */
public interface SqlValue {
  String sqlValue();
}
