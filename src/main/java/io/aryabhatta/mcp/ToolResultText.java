package io.aryabhatta.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.json.Json;
import io.modelcontextprotocol.spec.McpSchema.AudioContent;
import io.modelcontextprotocol.spec.McpSchema.BlobResourceContents;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.EmbeddedResource;
import io.modelcontextprotocol.spec.McpSchema.ImageContent;
import io.modelcontextprotocol.spec.McpSchema.ResourceLink;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.modelcontextprotocol.spec.McpSchema.TextResourceContents;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an MCP tool result into the text a model reads: text parts joined by newlines, other
 * parts (images, audio, binary resources, links) summarized in one bracketed line each, structured
 * content as JSON when there is nothing else.
 */
final class ToolResultText {
  private final ObjectMapper mapper;
  private final int maxChars;

  ToolResultText(ObjectMapper mapper, int maxChars) {
    this.mapper = mapper;
    this.maxChars = maxChars;
  }

  String of(CallToolResult result) {
    List<String> parts = new ArrayList<>();
    if (result.content() != null) {
      result.content().forEach(content -> parts.add(part(content)));
    }
    if (parts.isEmpty() && result.structuredContent() != null) {
      parts.add(Json.write(mapper, result.structuredContent()));
    }
    if (parts.isEmpty()) {
      parts.add("(the tool returned no content)");
    }
    String text = String.join("\n", parts);
    return text.length() <= maxChars ? text
        : text.substring(0, maxChars) + "\n[truncated: result exceeded " + maxChars + " characters]";
  }

  private static String part(Content content) {
    if (content instanceof TextContent text) {
      return text.text() == null ? "" : text.text();
    }
    if (content instanceof ImageContent image) {
      return "[image: " + image.mimeType() + ", " + base64Size(image.data()) + " not shown]";
    }
    if (content instanceof AudioContent audio) {
      return "[audio: " + audio.mimeType() + ", " + base64Size(audio.data()) + " not shown]";
    }
    if (content instanceof EmbeddedResource embedded) {
      if (embedded.resource() instanceof TextResourceContents text) {
        return text.text();
      }
      if (embedded.resource() instanceof BlobResourceContents blob) {
        return "[resource " + blob.uri() + ": " + blob.mimeType() + ", " + base64Size(blob.blob()) + " not shown]";
      }
      return embedded.resource() == null ? "[empty resource]" : "[resource " + embedded.resource().uri() + "]";
    }
    if (content instanceof ResourceLink link) {
      return "[resource link: " + link.uri() + (link.name() == null ? "" : " (" + link.name() + ")") + "]";
    }
    return "[" + content.type() + " content not shown]";
  }

  private static String base64Size(String data) {
    long bytes = data == null ? 0 : data.length() * 3L / 4;
    return bytes < 1024 ? bytes + " bytes" : (bytes / 1024) + " KiB";
  }
}
