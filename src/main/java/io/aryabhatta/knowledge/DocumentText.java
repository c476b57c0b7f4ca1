package io.aryabhatta.knowledge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.text.PDFTextStripper;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;

/**
 * A document's text as the structure it has: paragraphs (blocks), each under the headings that
 * lead to it and, in a PDF, on its page. Chunks follow these blocks.
 */
final class DocumentText {
  private static final Pattern BLANK_LINES = Pattern.compile("\\n\\s*\\n");
  private static final String HTML_BLOCKS = "h1,h2,h3,h4,h5,h6,p,li,pre,blockquote,td,th,dt,dd,figcaption";

  /** The most text a document may hold, whatever its size in bytes (a PDF's text can be far larger). */
  static final int MAX_TEXT_CHARS = 20_000_000;
  private static final String PAGE_END = "\f";

  private DocumentText() {}

  /** A paragraph, the headings above it (outermost first), and its page (PDF only, else null). */
  record Block(List<String> headings, Integer page, String text) {}

  /** The content could not be read as its format (a damaged or encrypted PDF). */
  static final class Unreadable extends Exception {
    Unreadable(String message) {
      super(message);
    }
  }

  static List<Block> of(DocumentFormat format, byte[] content) throws Unreadable {
    return switch (format) {
      case TEXT -> paragraphs(List.of(), null, utf8(content));
      case MARKDOWN -> markdown(utf8(content));
      case HTML -> html(utf8(content));
      case PDF -> pdf(content);
    };
  }

  /** Opens a PDF far enough to refuse a damaged or encrypted one before it is stored. */
  static void checkPdf(byte[] content) throws Unreadable {
    try (PDDocument ignored = open(content)) {
      // Opened: readable.
    } catch (IOException e) {
      throw new Unreadable("the PDF cannot be read: " + e.getMessage());
    }
  }

  private static String utf8(byte[] content) {
    return storable(new String(content, StandardCharsets.UTF_8).replace("\r\n", "\n"));
  }

  /** PostgreSQL text holds no NUL; a PDF's text may. */
  private static String storable(String text) {
    return text.indexOf('\u0000') < 0 ? text : text.replace("\u0000", "");
  }

  private static List<Block> paragraphs(List<String> headings, Integer page, String text) {
    List<Block> blocks = new ArrayList<>();
    for (String paragraph : BLANK_LINES.split(text)) {
      String clean = paragraph.strip();
      if (!clean.isEmpty()) {
        blocks.add(new Block(headings, page, clean));
      }
    }
    return blocks;
  }

  private static List<Block> markdown(String text) {
    List<Block> blocks = new ArrayList<>();
    List<String> headings = new ArrayList<>();
    StringBuilder paragraph = new StringBuilder();
    boolean inFence = false;
    for (String line : text.split("\n", -1)) {
      if (line.strip().startsWith("```")) {
        inFence = !inFence;
      }
      Heading heading = inFence ? null : Heading.of(line);
      if (heading != null) {
        flush(blocks, headings, paragraph);
        while (headings.size() >= heading.level()) {
          headings.remove(headings.size() - 1);
        }
        headings.add(heading.text());
      } else if (!inFence && line.isBlank()) {
        flush(blocks, headings, paragraph);
      } else {
        paragraph.append(line).append('\n');
      }
    }
    flush(blocks, headings, paragraph);
    return blocks;
  }

  /**
   * An ATX heading ({@code ## Title ##}), read by hand: a regular expression of several adjacent
   * quantifiers over spaces takes time cubic in a long line of spaces.
   */
  private record Heading(int level, String text) {
    static Heading of(String line) {
      int level = 0;
      while (level < line.length() && line.charAt(level) == '#') {
        level++;
      }
      if (level == 0 || level > 6 || level == line.length() || !Character.isWhitespace(line.charAt(level))) {
        return null;
      }
      String text = line.substring(level).strip();
      int end = text.length();
      while (end > 0 && text.charAt(end - 1) == '#') {
        end--;
      }
      text = text.substring(0, end).strip();
      return new Heading(level, text);
    }
  }

  private static void flush(List<Block> blocks, List<String> headings, StringBuilder paragraph) {
    String text = paragraph.toString().strip();
    if (!text.isEmpty()) {
      blocks.add(new Block(List.copyOf(headings), null, text));
    }
    paragraph.setLength(0);
  }

  /** The page's block elements in document order; one nested in another is part of the outer one. */
  private static List<Block> html(String text) {
    Document page = Jsoup.parse(text);
    page.select("script, style, noscript, template, nav, header, footer").remove();
    List<Block> blocks = new ArrayList<>();
    List<String> headings = new ArrayList<>();
    for (Element element : page.body().select(HTML_BLOCKS)) {
      if (element.parents().stream().anyMatch(p -> p.is(HTML_BLOCKS))) {
        continue;
      }
      String content = element.is("pre") ? element.wholeText().strip() : element.text().strip();
      if (content.isEmpty()) {
        continue;
      }
      if (element.nameIs("h1") || element.nameIs("h2") || element.nameIs("h3") || element.nameIs("h4")
          || element.nameIs("h5") || element.nameIs("h6")) {
        int level = element.normalName().charAt(1) - '0';
        while (headings.size() >= level) {
          headings.remove(headings.size() - 1);
        }
        headings.add(content);
      } else {
        blocks.add(new Block(List.copyOf(headings), null, content));
      }
    }
    return blocks;
  }

  private static List<Block> pdf(byte[] content) throws Unreadable {
    try (PDDocument document = open(content)) {
      // One pass over the document, pages marked by a form feed: asking for each page on its own
      // walks the page tree again for every page.
      PDFTextStripper stripper = new PDFTextStripper();
      stripper.setParagraphStart("\n\n");
      stripper.setPageEnd(PAGE_END);
      String text = storable(stripper.getText(document).replace("\r\n", "\n"));
      if (text.length() > MAX_TEXT_CHARS) {
        throw new Unreadable("the PDF holds more than " + MAX_TEXT_CHARS + " characters of text");
      }
      List<Block> blocks = new ArrayList<>();
      String[] pages = text.split(PAGE_END, -1);
      for (int page = 0; page < pages.length; page++) {
        blocks.addAll(paragraphs(List.of(), page + 1, pages[page]));
      }
      return blocks;
    } catch (IOException e) {
      throw new Unreadable("the PDF cannot be read: " + e.getMessage());
    }
  }

  private static PDDocument open(byte[] content) throws IOException, Unreadable {
    try {
      PDDocument document = Loader.loadPDF(content);
      if (document.isEncrypted()) {
        document.close();
        throw new Unreadable("the PDF is encrypted; add a copy without a password");
      }
      return document;
    } catch (InvalidPasswordException e) {
      throw new Unreadable("the PDF is encrypted; add a copy without a password");
    }
  }
}
