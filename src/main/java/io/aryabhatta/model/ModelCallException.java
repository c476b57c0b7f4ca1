package io.aryabhatta.model;

import java.util.List;

public abstract sealed class ModelCallException extends RuntimeException {
  ModelCallException(String m) { super(m); }
  public abstract String kind();
  public abstract Integer statusCode();
  public abstract List<Attempt> attempts();
  public static final class Cancelled extends ModelCallException {
    Cancelled() { super("x"); }
    public String kind() { return "cancelled"; }
    public Integer statusCode() { return null; }
    public List<Attempt> attempts() { return List.of(); }
  }
}
