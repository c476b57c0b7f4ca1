package io.aryabhatta.knowledge;

import io.aryabhatta.db.WireName;
import java.util.Locale;

/** The formats a knowledge base reads: what a document is, from its declared type or its name. */
public enum DocumentFormat implements WireName {
  TEXT,
  MARKDOWN,
  HTML,
  PDF;

  /**
   * The format of a document named {@code name} sent as {@code contentType} (either may be null),
   * or null when neither says one of ours. A declared type wins over the name's extension, except
   * the generic ones ({@code application/octet-stream}, none).
   */
  static DocumentFormat detect(String contentType, String name) {
    String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).split(";")[0].trim();
    switch (type) {
      case "text/plain":
        return byName(name, TEXT);
      case "text/markdown", "text/x-markdown":
        return MARKDOWN;
      case "text/html", "application/xhtml+xml":
        return HTML;
      case "application/pdf":
        return PDF;
      case "", "application/octet-stream":
        return byName(name, null);
      default:
        return null;
    }
  }

  private static DocumentFormat byName(String name, DocumentFormat otherwise) {
    String lower = name == null ? "" : name.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".md") || lower.endsWith(".markdown")) {
      return MARKDOWN;
    }
    if (lower.endsWith(".html") || lower.endsWith(".htm")) {
      return HTML;
    }
    if (lower.endsWith(".pdf")) {
      return PDF;
    }
    if (lower.endsWith(".txt") || lower.endsWith(".text")) {
      return TEXT;
    }
    return otherwise;
  }

  public static DocumentFormat of(String wire) {
    return WireName.parse(DocumentFormat.class, wire);
  }
}
