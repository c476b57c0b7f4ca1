package io.aryabhatta.tools;

import io.aryabhatta.tools.Calculator.InvalidExpression;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Recursive-descent evaluator for {@link Calculator}. Grammar, loosest binding first:
 *
 * <pre>
 * expression := term (('+' | '-') term)*
 * term       := unary (('*' | '/' | '%') unary)*
 * unary      := ('-' | '+') unary | power
 * power      := primary (('^' | '**') unary)?      -- right-associative; -2^2 = -4
 * primary    := number | '(' expression ')' | name '(' expression (',' expression)* ')'
 * </pre>
 *
 * Every intermediate result is size-checked, so no input within the length cap can make it
 * compute for long or allocate much.
 */
final class ExpressionParser {
  private static final int MAX_DEPTH = 100;
  private static final int MAX_EXPONENT = 1_000;
  /** Digits before the decimal point, and the smallest magnitude (10^-n), a result may have. */
  private static final int MAX_DIGITS = 1_000;
  private static final MathContext INEXACT = MathContext.DECIMAL128;
  private static final String FUNCTIONS = "sqrt, abs, round, floor, ceil";

  private final String text;
  private int pos;
  private int depth;

  ExpressionParser(String text) {
    this.text = text;
  }

  BigDecimal parse() throws InvalidExpression {
    skipSpaces();
    if (atEnd()) {
      throw new InvalidExpression("empty expression");
    }
    BigDecimal value = expression();
    skipSpaces();
    if (!atEnd()) {
      throw error("unexpected '" + text.charAt(pos) + "'");
    }
    return value;
  }

  private BigDecimal expression() throws InvalidExpression {
    BigDecimal value = term();
    while (true) {
      skipSpaces();
      int at = pos;
      if (accept('+')) {
        value = checked(value.add(term()), at);
      } else if (accept('-') || accept('−')) {
        value = checked(value.subtract(term()), at);
      } else {
        return value;
      }
    }
  }

  private BigDecimal term() throws InvalidExpression {
    BigDecimal value = unary();
    while (true) {
      skipSpaces();
      int at = pos;
      if (!peek("**") && (accept('*') || accept('×'))) {
        value = checked(value.multiply(unary()), at);
      } else if (accept('/') || accept('÷')) {
        value = divide(value, unary(), at);
      } else if (accept('%')) {
        BigDecimal divisor = unary();
        if (divisor.signum() == 0) {
          throw errorAt(at, "division by zero (remainder of division by 0)");
        }
        value = checked(value.remainder(divisor), at);
      } else {
        return value;
      }
    }
  }

  private BigDecimal unary() throws InvalidExpression {
    skipSpaces();
    int at = pos;
    if (accept('-') || accept('−')) {
      enter(at);
      BigDecimal operand = unary();
      depth--;
      return operand.negate();
    }
    if (accept('+')) {
      enter(at);
      BigDecimal operand = unary();
      depth--;
      return operand;
    }
    return power();
  }

  private BigDecimal power() throws InvalidExpression {
    BigDecimal base = primary();
    skipSpaces();
    int at = pos;
    if (accept('^') || acceptText("**")) {
      enter(at);
      BigDecimal exponent = unary();
      depth--;
      return pow(base, exponent, at);
    }
    return base;
  }

  private BigDecimal primary() throws InvalidExpression {
    skipSpaces();
    if (atEnd()) {
      throw error("expected a number, '(' or a function, but the expression ended");
    }
    char c = text.charAt(pos);
    int at = pos;
    if (c == '(') {
      pos++;
      enter(at);
      BigDecimal value = expression();
      expect(')');
      depth--;
      return value;
    }
    if (Character.isDigit(c) || c == '.') {
      return number();
    }
    if (Character.isLetter(c)) {
      return function();
    }
    throw error("expected a number, '(' or a function but found '" + c + "'");
  }

  private BigDecimal number() throws InvalidExpression {
    int start = pos;
    int digits = skipDigits();
    if (accept('.')) {
      digits += skipDigits();
    }
    if (digits == 0) {
      throw errorAt(start, "malformed number");
    }
    if (!atEnd() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      int afterE = pos + 1;
      if (afterE < text.length() && (text.charAt(afterE) == '+' || text.charAt(afterE) == '-')) {
        afterE++;
      }
      if (afterE < text.length() && Character.isDigit(text.charAt(afterE))) {
        pos = afterE;
        skipDigits();
      }
    }
    String literal = text.substring(start, pos);
    try {
      return checked(new BigDecimal(literal), start);
    } catch (NumberFormatException e) {
      throw errorAt(start, "malformed number '" + literal + "'");
    }
  }

  private BigDecimal function() throws InvalidExpression {
    int start = pos;
    while (!atEnd() && Character.isLetterOrDigit(text.charAt(pos))) {
      pos++;
    }
    String name = text.substring(start, pos).toLowerCase(Locale.ROOT);
    if (!List.of("sqrt", "abs", "round", "floor", "ceil").contains(name)) {
      throw errorAt(start, "unknown name '" + text.substring(start, pos) + "' (functions: " + FUNCTIONS + ")");
    }
    skipSpaces();
    if (!accept('(')) {
      throw error("expected '(' after " + name);
    }
    enter(start);
    List<BigDecimal> args = new ArrayList<>();
    args.add(expression());
    skipSpaces();
    while (accept(',')) {
      args.add(expression());
      skipSpaces();
    }
    expect(')');
    depth--;
    return apply(name, args, start);
  }

  private BigDecimal apply(String name, List<BigDecimal> args, int at) throws InvalidExpression {
    int allowed = name.equals("round") ? 2 : 1;
    if (args.size() > allowed) {
      throw errorAt(at, name + " takes " + (allowed == 1 ? "one argument" : "one or two arguments"));
    }
    BigDecimal x = args.get(0);
    return switch (name) {
      case "sqrt" -> {
        if (x.signum() < 0) {
          throw errorAt(at, "square root of a negative number (" + x.toPlainString() + ")");
        }
        yield checked(x.sqrt(INEXACT), at);
      }
      case "abs" -> x.abs();
      case "floor" -> x.setScale(0, RoundingMode.FLOOR);
      case "ceil" -> x.setScale(0, RoundingMode.CEILING);
      case "round" -> {
        int places = args.size() == 2 ? wholeNumber(args.get(1), -100, 100, "decimal places of round", at) : 0;
        yield x.setScale(places, RoundingMode.HALF_UP);
      }
      default -> throw new IllegalStateException("function list and switch disagree: " + name);
    };
  }

  private BigDecimal divide(BigDecimal dividend, BigDecimal divisor, int at) throws InvalidExpression {
    if (divisor.signum() == 0) {
      throw errorAt(at, "division by zero");
    }
    try {
      return checked(dividend.divide(divisor), at);
    } catch (ArithmeticException nonTerminating) {
      return checked(dividend.divide(divisor, INEXACT), at);
    }
  }

  private BigDecimal pow(BigDecimal base, BigDecimal exponent, int at) throws InvalidExpression {
    int n = wholeNumber(exponent, -MAX_EXPONENT, MAX_EXPONENT, "exponent", at);
    if (base.signum() == 0) {
      if (n < 0) {
        throw errorAt(at, "division by zero (0 to a negative power)");
      }
      return n == 0 ? BigDecimal.ONE : BigDecimal.ZERO;
    }
    long integerDigits = base.precision() - (long) base.scale();
    if (Math.abs((integerDigits - 1) * n) > MAX_DIGITS) {
      throw errorAt(at, "result is out of range (more than " + MAX_DIGITS + " digits)");
    }
    int absN = Math.abs(n);
    BigDecimal magnitude = (long) base.precision() * absN <= 10 * MAX_DIGITS
        ? base.pow(absN)
        : base.pow(absN, new MathContext(MAX_DIGITS));
    return n >= 0 ? checked(magnitude, at) : divide(BigDecimal.ONE, magnitude, at);
  }

  private int wholeNumber(BigDecimal value, int min, int max, String what, int at) throws InvalidExpression {
    BigDecimal stripped = value.stripTrailingZeros();
    if (stripped.scale() > 0) {
      throw errorAt(at, what + " must be a whole number, not " + stripped.toPlainString()
          + (what.equals("exponent") ? " (use sqrt(x) for square roots)" : ""));
    }
    if (stripped.compareTo(BigDecimal.valueOf(min)) < 0 || stripped.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw errorAt(at, what + " must be between " + min + " and " + max + ", not " + stripped.toPlainString());
    }
    return stripped.intValueExact();
  }

  /** Keeps every intermediate result printable and cheap to compute with. */
  private BigDecimal checked(BigDecimal value, int at) throws InvalidExpression {
    if (value.signum() == 0) {
      return BigDecimal.ZERO;
    }
    BigDecimal result = value.precision() > MAX_DIGITS ? value.round(new MathContext(MAX_DIGITS)) : value;
    long magnitude = result.precision() - (long) result.scale();
    if (magnitude > MAX_DIGITS) {
      throw errorAt(at, "result is out of range (more than " + MAX_DIGITS + " digits)");
    }
    if (magnitude < -MAX_DIGITS) {
      throw errorAt(at, "result is out of range (smaller than 1e-" + MAX_DIGITS + ")");
    }
    return result;
  }

  private void enter(int at) throws InvalidExpression {
    if (++depth > MAX_DEPTH) {
      throw errorAt(at, "expression is nested too deeply (more than " + MAX_DEPTH + " levels)");
    }
  }

  private void expect(char c) throws InvalidExpression {
    skipSpaces();
    if (!accept(c)) {
      throw atEnd()
          ? error("expected '" + c + "' but the expression ended")
          : error("expected '" + c + "' but found '" + text.charAt(pos) + "'");
    }
  }

  private int skipDigits() {
    int start = pos;
    while (!atEnd() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
      pos++;
    }
    return pos - start;
  }

  private void skipSpaces() {
    while (!atEnd() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }

  private boolean accept(char c) {
    if (!atEnd() && text.charAt(pos) == c) {
      pos++;
      return true;
    }
    return false;
  }

  private boolean acceptText(String s) {
    if (peek(s)) {
      pos += s.length();
      return true;
    }
    return false;
  }

  private boolean peek(String s) {
    return text.startsWith(s, pos);
  }

  private boolean atEnd() {
    return pos >= text.length();
  }

  private InvalidExpression error(String message) {
    return errorAt(pos, message);
  }

  private static InvalidExpression errorAt(int index, String message) {
    return new InvalidExpression(message + " at position " + (index + 1));
  }
}
