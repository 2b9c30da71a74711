package io.edgesync.agent.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.edgesync.agent.DownloadStatus;
import io.edgesync.agent.InstalledFile;
import io.edgesync.agent.UploadStatus;
import io.edgesync.agent.internal.LocalApi.HttpError;
import io.edgesync.agent.internal.files.AgentFiles;
import io.edgesync.engine.docs.JsonDocs;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local API's file routes (docs/api.md, "Files"):
 *
 * <ul>
 *   <li>{@code POST /v1/files/uploads/{collection}/{name}}: the body is the file, read in chunks
 *       straight into the agent's chunk store (never whole in memory); recorded only once the whole
 *       body arrived (a body shorter than its Content-Length records nothing).
 *   <li>{@code GET /v1/files/uploads}; {@code GET /v1/files}: installed files and downloads.
 *   <li>{@code GET /v1/files/content?path=P}: the installed file's bytes.
 *   <li>{@code POST /v1/files/report}: {@code {"path", "version", "ok", "reason"}}.
 *   <li>{@code GET /v1/files/events?after=N&waitMs=M}: installs numbered after N, waiting up to M
 *       ms (at most 60 s) for one.
 * </ul>
 *
 * Stateless; called on the local API's threads.
 */
final class LocalFilesApi {
  private final AgentFiles files;

  LocalFilesApi(AgentFiles files) {
    this.files = files;
  }

  /** {@code rest}: the path after {@code /v1/files} ("" or "/..."). */
  void handle(HttpExchange ex, String method, String rest) throws IOException {
    if (rest.startsWith("/uploads/")) {
      LocalApi.requireMethod(method, "POST");
      upload(ex, rest.substring("/uploads/".length()));
    } else if (rest.equals("/uploads")) {
      LocalApi.requireMethod(method, "GET");
      LocalApi.reply(
          ex, 200, Map.of("uploads", files.uploads().stream().map(LocalFilesApi::json).toList()));
    } else if (rest.isEmpty() || rest.equals("/")) {
      LocalApi.requireMethod(method, "GET");
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("installed", files.installed().stream().map(LocalFilesApi::json).toList());
      out.put("downloads", files.downloads().stream().map(LocalFilesApi::json).toList());
      LocalApi.reply(ex, 200, out);
    } else if (rest.equals("/content")) {
      LocalApi.requireMethod(method, "GET");
      content(ex);
    } else if (rest.equals("/report")) {
      LocalApi.requireMethod(method, "POST");
      report(ex);
    } else if (rest.equals("/events")) {
      LocalApi.requireMethod(method, "GET");
      events(ex);
    } else {
      throw new HttpError(404, "no such endpoint: " + method + " /v1/files" + rest);
    }
  }

  private void upload(HttpExchange ex, String rest) throws IOException {
    int slash = rest.indexOf('/');
    if (slash <= 0 || slash == rest.length() - 1) {
      throw new HttpError(400, "expected /v1/files/uploads/{collection}/{name}");
    }
    String collection = URLDecoder.decode(rest.substring(0, slash), StandardCharsets.UTF_8);
    String name = URLDecoder.decode(rest.substring(slash + 1), StandardCharsets.UTF_8);
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    long expected = length == null ? -1 : Long.parseLong(length.trim());
    UploadStatus u = files.upload(collection, name, new Counted(ex.getRequestBody(), expected));
    LocalApi.reply(ex, 200, json(u));
  }

  private void content(HttpExchange ex) throws IOException {
    String path = LocalApi.queryParam(ex, "path", null);
    if (path == null) {
      throw new HttpError(400, "query parameter 'path' is required");
    }
    InstalledFile f =
        files
            .installed(path)
            .orElseThrow(() -> new HttpError(404, "nothing is installed at " + path));
    ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
    ex.getResponseHeaders().set("X-Edgesync-Version", Long.toString(f.version()));
    ex.getResponseHeaders().set("X-Edgesync-Sha256", f.sha256());
    // Opened before the headers go out: a file replaced meanwhile is read whole, old or new.
    try (InputStream in = java.nio.file.Files.newInputStream(f.file())) {
      ex.sendResponseHeaders(200, java.nio.file.Files.size(f.file()));
      try (OutputStream out = ex.getResponseBody()) {
        in.transferTo(out);
      }
    }
  }

  private void report(HttpExchange ex) throws IOException {
    JsonNode body;
    try {
      body = JsonDocs.parse(ex.getRequestBody().readNBytes(64 * 1024));
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, "the body is " + e.getMessage());
    }
    JsonNode path = body.get("path");
    JsonNode version = body.get("version");
    JsonNode ok = body.get("ok");
    if (path == null
        || !path.isTextual()
        || version == null
        || !version.canConvertToLong()
        || ok == null
        || !ok.isBoolean()) {
      throw new HttpError(
          400,
          "expected {\"path\": string, \"version\": integer, \"ok\": boolean, \"reason\": string}");
    }
    var installed = files.installed(path.asText());
    if (installed.isEmpty() || installed.get().version() != version.asLong()) {
      throw new HttpError(
          404, "version " + version.asLong() + " of " + path.asText() + " is not installed");
    }
    JsonNode reason = body.get("reason");
    files.reportInstall(
        path.asText(), version.asLong(), ok.asBoolean(), reason == null ? null : reason.asText());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("path", path.asText());
    out.put("version", version.asLong());
    out.put("state", ok.asBoolean() ? "installed" : "failed");
    LocalApi.reply(ex, 200, out);
  }

  private void events(HttpExchange ex) throws IOException {
    long after = LocalApi.longParam(ex, "after", 0);
    long waitMs =
        Math.min(LocalApi.MAX_POLL_WAIT_MS, Math.max(0, LocalApi.longParam(ex, "waitMs", 30_000)));
    List<AgentFiles.Event> events;
    try {
      events = files.events(after, waitMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HttpError(503, "agent stopping");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("events", events);
    out.put("next", events.isEmpty() ? after : events.get(events.size() - 1).seq());
    LocalApi.reply(ex, 200, out);
  }

  private static Map<String, Object> json(UploadStatus u) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("collection", u.collection());
    m.put("name", u.name());
    m.put("path", u.path());
    m.put("version", u.version());
    m.put("sizeBytes", u.sizeBytes());
    m.put("sha256", u.sha256());
    m.put("state", u.state());
    m.put("bytesDone", u.bytesDone());
    m.put("reason", u.reason());
    return m;
  }

  private static Map<String, Object> json(InstalledFile f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", f.path());
    m.put("file", f.file().toString());
    m.put("version", f.version());
    m.put("sizeBytes", f.sizeBytes());
    m.put("sha256", f.sha256());
    m.put("metadata", f.metadata());
    m.put("installedAtMs", f.installedAtMs());
    m.put("previousVersion", f.previousVersion());
    m.put("previousFile", f.previousFile() == null ? null : f.previousFile().toString());
    return m;
  }

  private static Map<String, Object> json(DownloadStatus d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", d.path());
    m.put("version", d.version());
    m.put("state", d.state());
    m.put("bytesDone", d.bytesDone());
    m.put("bytesTotal", d.bytesTotal());
    m.put("reason", d.reason());
    return m;
  }

  /**
   * The request body, failing at its end if it is shorter than its Content-Length: a client that
   * went away mid-upload must not leave a truncated file recorded as complete. (The JDK server
   * already fails a short fixed-length body; this holds whatever stream is underneath.)
   */
  private static final class Counted extends FilterInputStream {
    private final long expected;
    private long seen;

    Counted(InputStream in, long expected) {
      super(in);
      this.expected = expected;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xFF;
    }

    /** A failure of the client's side is the request's fault (400), not the agent's (500). */
    @Override
    public int read(byte[] buf, int off, int len) {
      int n;
      try {
        n = super.read(buf, off, len);
      } catch (IOException e) {
        throw new HttpError(
            400,
            "the body could not be read after "
                + seen
                + " bytes ("
                + e.getMessage()
                + "); nothing was stored");
      }
      return n < 0 ? end(-1) : count(n, n);
    }

    private int count(int n, int result) {
      seen += n;
      return result;
    }

    private int end(int result) {
      if (expected >= 0 && seen != expected) {
        throw new HttpError(
            400,
            "the body ended after " + seen + " of its " + expected + " bytes; nothing was stored");
      }
      return result;
    }
  }
}
