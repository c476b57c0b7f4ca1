package io.aryabhatta.knowledge;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Splits a document's blocks into chunks of at most {@code budgetTokens} (estimated at four
 * characters a token), following its structure: consecutive paragraphs under the same headings,
 * on the same page, share a chunk while they fit; a new heading or page starts a new one. A
 * paragraph longer than the budget is cut at word boundaries. Each chunk after the first of a
 * section begins with the last {@code overlapTokens} of the one before, so that a sentence cut
 * at a boundary is found whole in one of them.
 */
final class Chunker {
  private static final int CHARS_PER_TOKEN = 4;

  private final int budgetChars;
  private final int overlapChars;

  Chunker(int budgetTokens, int overlapTokens) {
    if (overlapTokens * 2 > budgetTokens) {
      throw new IllegalArgumentException("the overlap must be at most half the budget");
    }
    this.budgetChars = budgetTokens * CHARS_PER_TOKEN;
    this.overlapChars = overlapTokens * CHARS_PER_TOKEN;
  }

  /** A chunk: its text, and where it is in the document. */
  record Chunk(int position, List<String> headings, Integer page, String text) {}

  List<Chunk> chunks(List<DocumentText.Block> blocks) {
    List<Chunk> chunks = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    DocumentText.Block section = null;
    for (DocumentText.Block block : blocks) {
      boolean sameSection = section != null && section.headings().equals(block.headings())
          && Objects.equals(section.page(), block.page());
      if (!sameSection) {
        emit(chunks, section, current);
        current.setLength(0);
        section = block;
      }
      for (String piece : pieces(block.text())) {
        if (!current.isEmpty() && current.length() + 2 + piece.length() > budgetChars) {
          String carried = tail(current.toString());
          emit(chunks, section, current);
          current.setLength(0);
          current.append(carried);
        }
        if (!current.isEmpty()) {
          current.append("\n\n");
        }
        current.append(piece);
      }
    }
    emit(chunks, section, current);
    return chunks;
  }

  private void emit(List<Chunk> chunks, DocumentText.Block section, StringBuilder text) {
    String content = text.toString().strip();
    if (section != null && !content.isEmpty()) {
      chunks.add(new Chunk(chunks.size(), section.headings(), section.page(), content));
    }
  }

  /** The paragraph, cut at word boundaries into pieces that leave room for the overlap. */
  private List<String> pieces(String paragraph) {
    int max = budgetChars - overlapChars - 2;
    List<String> pieces = new ArrayList<>();
    int from = 0;
    // Offsets into the paragraph, not copies of what is left: a long paragraph is cut in linear time.
    while (paragraph.length() - from > max) {
      int cut = paragraph.lastIndexOf(' ', from + max);
      if (cut <= from + max / 2) {
        cut = from + max;
      }
      String piece = paragraph.substring(from, cut).strip();
      if (!piece.isEmpty()) {
        pieces.add(piece);
      }
      from = cut;
      while (from < paragraph.length() && Character.isWhitespace(paragraph.charAt(from))) {
        from++;
      }
    }
    String rest = paragraph.substring(from).strip();
    if (!rest.isEmpty()) {
      pieces.add(rest);
    }
    return pieces;
  }

  /** The end of a chunk carried into the next one, from a word boundary. */
  private String tail(String text) {
    if (overlapChars == 0 || text.length() <= overlapChars) {
      return overlapChars == 0 ? "" : text;
    }
    String tail = text.substring(text.length() - overlapChars);
    int space = tail.indexOf(' ');
    return space < 0 ? tail : tail.substring(space + 1);
  }
}
