package io.aryabhatta.tools;

import java.math.BigDecimal;

/**
 * The {@code calculator} built-in: exact decimal arithmetic on an expression such as
 * {@code (0.1 + 0.2) * 3 ^ 2 / 7}.
 *
 * <p>Supports numbers (with optional exponent, {@code 1.5e3}), {@code + - * / % ^} (also {@code **},
 * {@code ×}, {@code ÷}), unary signs, parentheses and the functions {@code sqrt}, {@code abs},
 * {@code round(x)} / {@code round(x, places)}, {@code floor} and {@code ceil}. Results are exact
 * where a finite decimal exists; otherwise (1/3, sqrt(2)) they have 34 significant digits.
 */
public final class Calculator {
  public static final int MAX_EXPRESSION_LENGTH = 1_000;

  /**
   * Evaluates {@code expression}.
   *
   * @return the result as a plain decimal string without trailing zeros, e.g. {@code "0.3"}
   * @throws InvalidExpression for syntax errors, division by zero and out-of-range results; the
   *     message names the position (1-based) and is meant for the model
   */
  public String evaluate(String expression) throws InvalidExpression {
    if (expression.length() > MAX_EXPRESSION_LENGTH) {
      throw new InvalidExpression("expression is too long (" + expression.length()
          + " characters; at most " + MAX_EXPRESSION_LENGTH + ")");
    }
    BigDecimal result = new ExpressionParser(expression).parse();
    return result.signum() == 0 ? "0" : result.stripTrailingZeros().toPlainString();
  }

  /** An expression that cannot be evaluated; the message says why and where. */
  public static final class InvalidExpression extends Exception {
    public InvalidExpression(String message) {
      super(message);
    }
  }
}
