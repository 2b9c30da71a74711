package io.edgesync.engine.files;

import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileMeta;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What names and identifies a file version: the checks on its fields, its transfer id and the bytes
 * a release key signs.
 *
 * <p>The signing input (docs/files.md, "Signatures") is built here and only here, so that the
 * publisher that signs and the device that verifies cannot disagree:
 *
 * <pre>
 * "edgesync-file-v1\n" path "\n" version "\n" size "\n" hex(sha256) "\n"
 * (key "=" value "\n")*          metadata, sorted by key
 * </pre>
 *
 * with numbers in decimal and strings as UTF-8. Path, keys and values cannot hold a newline (and
 * keys no "="), so the input is unambiguous. Stateless.
 */
public final class FileVersion {
  /** Longest path, in UTF-8 bytes. */
  public static final int MAX_PATH_BYTES = 512;

  /** Most metadata entries per version, and the longest key and value (UTF-8 bytes). */
  public static final int MAX_METADATA_ENTRIES = 64;

  public static final int MAX_METADATA_KEY_BYTES = 128;
  public static final int MAX_METADATA_VALUE_BYTES = 1024;

  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern META_KEY = Pattern.compile("[A-Za-z0-9._-]+");

  private FileVersion() {}

  /** "<path>@<version>". */
  public static String transferId(String path, long version) {
    return path + "@" + version;
  }

  /**
   * Throws {@link IllegalArgumentException} naming the problem unless {@code path} is relative,
   * "/"-separated, with non-empty segments of [A-Za-z0-9._-], none "." or "..", at most {@value
   * #MAX_PATH_BYTES} bytes.
   */
  public static String checkPath(String path) {
    if (path == null || path.isEmpty()) {
      throw new IllegalArgumentException("a file path must not be empty");
    }
    if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw new IllegalArgumentException(
          "file path longer than " + MAX_PATH_BYTES + " bytes: " + path.substring(0, 64) + "...");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..") || !SEGMENT.matcher(segment).matches()) {
        throw new IllegalArgumentException(
            "bad file path '"
                + path
                + "': segments are [A-Za-z0-9._-], separated by single '/', none '.' or '..'");
      }
    }
    return path;
  }

  /**
   * Checks every field of a header: path, version ≥ 1, a 32-byte SHA-256, metadata sorted with
   * unique keys of [A-Za-z0-9._-] and values without newlines, within the limits.
   */
  public static FileHeader check(FileHeader h) {
    checkPath(h.getPath());
    if (h.getVersion() < 1) {
      throw new IllegalArgumentException("file version must be >= 1, was " + h.getVersion());
    }
    if (h.getSha256().size() != 32) {
      throw new IllegalArgumentException(
          "file sha256 must be 32 bytes, was " + h.getSha256().size());
    }
    List<FileMeta> meta = h.getMetadataList();
    if (meta.size() > MAX_METADATA_ENTRIES) {
      throw new IllegalArgumentException(
          "more than " + MAX_METADATA_ENTRIES + " metadata entries: " + meta.size());
    }
    String previous = null;
    for (FileMeta m : meta) {
      if (!META_KEY.matcher(m.getKey()).matches()
          || m.getKey().getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_KEY_BYTES) {
        throw new IllegalArgumentException(
            "bad metadata key '" + m.getKey() + "': [A-Za-z0-9._-], 1.." + MAX_METADATA_KEY_BYTES);
      }
      if (m.getValue().indexOf('\n') >= 0
          || m.getValue().getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_VALUE_BYTES) {
        throw new IllegalArgumentException(
            "bad metadata value of '"
                + m.getKey()
                + "': no newline, at most "
                + MAX_METADATA_VALUE_BYTES
                + " bytes");
      }
      if (previous != null && previous.compareTo(m.getKey()) >= 0) {
        throw new IllegalArgumentException(
            "metadata keys must be sorted and unique: '"
                + previous
                + "' then '"
                + m.getKey()
                + "'");
      }
      previous = m.getKey();
    }
    return h;
  }

  /** The bytes a release key signs for this version (see the class comment). */
  public static byte[] signingInput(FileHeader h) {
    check(h);
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    StringBuilder s = new StringBuilder("edgesync-file-v1\n");
    s.append(h.getPath()).append('\n');
    s.append(Long.toUnsignedString(h.getVersion())).append('\n');
    s.append(Long.toUnsignedString(h.getSize())).append('\n');
    s.append(HexFormat.of().formatHex(h.getSha256().toByteArray())).append('\n');
    for (FileMeta m : h.getMetadataList()) {
      s.append(m.getKey()).append('=').append(m.getValue()).append('\n');
    }
    out.writeBytes(s.toString().getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
