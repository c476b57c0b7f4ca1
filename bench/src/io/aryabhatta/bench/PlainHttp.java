package io.aryabhatta.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A blocking HTTP/1.1 client over plain sockets, with kept-alive connections reused one request at
 * a time. The JDK's {@code HttpClient} hands every request and response between the calling
 * thread, its selector thread and its executor; at one run at a time those hand-offs cost about a
 * millisecond per request, which the benchmark would have charged to the platform. Here the
 * calling (virtual) thread writes the request in one write and reads the answer itself.
 */
final class PlainHttp {
  /** Connections idle longer than this are closed rather than reused (Jetty's idle timeout is 30 s). */
  private static final long MAX_IDLE_NANOS = 10_000_000_000L;

  /** Longer than the longest wait a benchmark run asks for ({@code timeout=300}). */
  private static final int READ_TIMEOUT_MILLIS = 360_000;

  private final InetSocketAddress address;
  private final String hostHeader;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();

  PlainHttp(String host, int port) {
    this.address = new InetSocketAddress(host, port);
    this.hostHeader = host + ":" + port;
  }

  /** An answer whose body is still to be read; closing it returns the connection for reuse. */
  final class Response implements AutoCloseable {
    final int status;
    private final Connection connection;
    private final InputStream body;
    private final boolean keepAlive;

    private Response(int status, Connection connection, InputStream body, boolean keepAlive) {
      this.status = status;
      this.connection = connection;
      this.body = body;
      this.keepAlive = keepAlive;
    }

    InputStream body() {
      return body;
    }

    String text() throws IOException {
      return new String(body.readAllBytes(), StandardCharsets.UTF_8);
    }

    /** Reuses the connection only when the whole body was read and the server keeps it open. */
    @Override
    public void close() {
      boolean wholeBodyRead = body instanceof FixedBody fixed ? fixed.left == 0
          : body instanceof ChunkedBody chunked && chunked.ended;
      if (wholeBodyRead && keepAlive) {
        connection.lastUsed = System.nanoTime();
        idle.push(connection);
      } else {
        connection.close();
      }
    }
  }

  /** Sends one request; the caller reads and closes the {@link Response}. */
  Response send(String method, String path, Map<String, String> headers, byte[] body) throws IOException {
    Connection connection = connection();
    try {
      connection.write(request(method, path, headers, body));
      return read(connection, method);
    } catch (IOException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  private Connection connection() throws IOException {
    for (Connection c = idle.poll(); c != null; c = idle.poll()) {
      if (System.nanoTime() - c.lastUsed < MAX_IDLE_NANOS) {
        return c;
      }
      c.close();
    }
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(READ_TIMEOUT_MILLIS);
    socket.connect(address, 10_000);
    return new Connection(socket);
  }

  private byte[] request(String method, String path, Map<String, String> headers, byte[] body) {
    StringBuilder head = new StringBuilder(256).append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: ").append(hostHeader).append("\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    byte[] headBytes = head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    if (body == null) {
      return headBytes;
    }
    byte[] whole = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, whole, 0, headBytes.length);
    System.arraycopy(body, 0, whole, headBytes.length, body.length);
    return whole;
  }

  private Response read(Connection connection, String method) throws IOException {
    InputStream in = connection.in;
    String statusLine = line(in);
    if (!statusLine.startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP answer: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean keepAlive = statusLine.startsWith("HTTP/1.1");
    for (String header = line(in); !header.isEmpty(); header = line(in)) {
      int colon = header.indexOf(':');
      String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = header.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "connection" -> keepAlive = !value.equalsIgnoreCase("close");
        default -> { }
      }
    }
    InputStream body;
    if (method.equals("HEAD") || status == 204 || status == 304) {
      body = new FixedBody(in, 0);
    } else if (chunked) {
      body = new ChunkedBody(in);
    } else if (length >= 0) {
      body = new FixedBody(in, length);
    } else {
      body = in; // until the server closes the connection
      keepAlive = false;
    }
    return new Response(status, connection, body, keepAlive);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new EOFException("the server closed the connection");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  private static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private long lastUsed;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      this.out = socket.getOutputStream();
    }

    void write(byte[] request) throws IOException {
      out.write(request);
      out.flush();
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing to do about a socket that will not close
      }
    }
  }

  /** A body read through {@code read(byte[], int, int)}; the single-byte read is that one's. */
  private abstract static class BodyStream extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }
  }

  private static final class FixedBody extends BodyStream {
    private final InputStream in;
    private long left;

    FixedBody(InputStream in, long length) {
      this.in = in;
      this.left = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left == 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("the answer ended early");
      }
      left -= n;
      return n;
    }
  }

  private static final class ChunkedBody extends BodyStream {
    private final InputStream in;
    private long leftInChunk;
    private boolean chunkRead;
    private boolean ended;

    ChunkedBody(InputStream in) {
      this.in = in;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (ended) {
        return -1;
      }
      if (leftInChunk == 0) {
        if (chunkRead) {
          line(in); // the CRLF after the previous chunk: a server may send it only with the next chunk
        }
        String size = line(in);
        int extension = size.indexOf(';');
        leftInChunk = Long.parseLong((extension < 0 ? size : size.substring(0, extension)).trim(), 16);
        if (leftInChunk == 0) {
          for (String trailer = line(in); !trailer.isEmpty(); trailer = line(in)) {
            // trailers are not used
          }
          ended = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, leftInChunk));
      if (n < 0) {
        throw new EOFException("the answer ended inside a chunk");
      }
      leftInChunk -= n;
      chunkRead = true;
      return n;
    }
  }
}
