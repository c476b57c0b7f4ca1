package io.aryabhatta.tools;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP server on 127.0.0.1 that misbehaves below HTTP, as a crashed, hung or unreachable target
 * does: it reads a request and drops the connection, accepts and never answers, answers a TLS
 * client in plain text, or never even completes a connection.
 */
final class RawTarget implements AutoCloseable {
  @FunctionalInterface
  private interface Behaviour {
    void serve(Socket connection, RawTarget target) throws IOException;
  }

  private final ServerSocket server;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final List<String> requestLines = new CopyOnWriteArrayList<>();

  private RawTarget(int backlog) throws IOException {
    server = new ServerSocket(0, backlog, InetAddress.getByName("127.0.0.1"));
  }

  /** Reads each request whole (headers and body), then closes the connection without answering. */
  static RawTarget readingThenClosing() throws IOException {
    return accepting((connection, target) -> {
      target.readRequest(connection.getInputStream());
      connection.close();
    });
  }

  /** Accepts each connection and never reads or writes anything. */
  static RawTarget silent() throws IOException {
    return accepting((connection, target) -> {});
  }

  /** Answers whatever arrives with a plain-text HTTP response, which a TLS client cannot read. */
  static RawTarget plainTextToTls() throws IOException {
    return accepting((connection, target) -> {
      connection.getInputStream().read(new byte[1024]);
      connection.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      connection.close();
    });
  }

  /**
   * Never accepts, and fills its accept queue itself: the kernel then drops further connection
   * attempts (SYNs), so a client's connect hangs until its own timeout.
   */
  static RawTarget neverConnecting() throws IOException {
    RawTarget target = new RawTarget(1);
    // Linux queues backlog + 1 connections; later ones wait in SYN retransmission.
    for (int i = 0; i < 2; i++) {
      Socket filler = new Socket();
      filler.connect(new InetSocketAddress(target.server.getInetAddress(), target.port()), 1_000);
      target.open.add(filler);
    }
    return target;
  }

  private static RawTarget accepting(Behaviour behaviour) throws IOException {
    RawTarget target = new RawTarget(50);
    Thread.ofVirtual().start(() -> {
      while (!target.server.isClosed()) {
        try {
          Socket connection = target.server.accept();
          target.open.add(connection);
          Thread.ofVirtual().start(() -> {
            try {
              behaviour.serve(connection, target);
            } catch (IOException clientWentAway) {
              // the client gave up first: nothing to serve
            }
          });
        } catch (IOException closed) {
          return;
        }
      }
    });
    return target;
  }

  private void readRequest(InputStream raw) throws IOException {
    InputStream in = new BufferedInputStream(raw);
    String requestLine = line(in);
    requestLines.add(requestLine);
    long contentLength = 0;
    for (String header = line(in); !header.isEmpty(); header = line(in)) {
      String lower = header.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        contentLength = Long.parseLong(lower.substring("content-length:".length()).trim());
      }
    }
    in.readNBytes((int) contentLength);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int b = in.read(); b != -1 && b != '\n'; b = in.read()) {
      if (b != '\r') {
        bytes.write(b);
      }
    }
    return bytes.toString(StandardCharsets.US_ASCII);
  }

  String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  String httpsUrl(String path) {
    return "https://127.0.0.1:" + port() + path;
  }

  int port() {
    return server.getLocalPort();
  }

  /** The request lines of the requests read so far, e.g. {@code POST /orders HTTP/1.1}. */
  List<String> requestLines() {
    return List.copyOf(requestLines);
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : open) {
      socket.close();
    }
  }
}
