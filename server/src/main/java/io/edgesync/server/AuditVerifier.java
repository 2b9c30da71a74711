package io.edgesync.server;

import io.edgesync.server.AuditChain.Entry;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Recomputes an audit chain record by record ({@link #accept}) and stops at the first bad one,
 * saying what is wrong with it: a sequence gap or reordering, a {@code prev} that is not the hash
 * of the record before, a hash that does not match the record's content, or a checkpoint whose
 * signature does not verify with the given public key. Records after the last checkpoint (or an
 * export's signed end line) are counted as not yet anchored: the chain alone cannot tell whether
 * records were cut off after them.
 *
 * <p>Also reads an export file ({@link #verifyExport}): one canonical line per record ({@link
 * AuditChain#line}) and a signed end line {@code {"end_hash":hex,"end_seq":n,"sig":hex}}; a line
 * that is not byte for byte the canonical form of what it decodes to is refused, so that every byte
 * of the file is covered.
 *
 * <p>Not thread safe: one verification, on one thread.
 */
public final class AuditVerifier {
  /** What a verification found. {@code problem} is null when the chain verified. */
  public record Report(
      long records,
      long checkpoints,
      long lastSeq,
      long anchoredThroughSeq,
      long badSeq,
      String problem) {
    public boolean ok() {
      return problem == null;
    }

    /** Records after the last anchor. */
    public long unanchored() {
      return lastSeq - anchoredThroughSeq;
    }

    /** One line for people: OK with counts, or the first bad record and what is wrong. */
    public String summary() {
      if (!ok()) {
        return "FAILED at record " + badSeq + ": " + problem;
      }
      return "OK: "
          + records
          + " records ("
          + checkpoints
          + " checkpoints), anchored through record "
          + anchoredThroughSeq
          + (unanchored() == 0
              ? ""
              : "; records " + (anchoredThroughSeq + 1) + ".." + lastSeq + " not yet anchored");
    }
  }

  private final PublicKey key;
  private long lastSeq;
  private byte[] lastHash = new byte[AuditChain.HASH_BYTES];
  private long checkpoints;
  private long anchoredThrough;
  private long badSeq;
  private String problem;

  /** Checks signatures with {@code key}; without a key (null) every checkpoint is a problem. */
  public AuditVerifier(PublicKey key) {
    this.key = key;
  }

  /** Checks the next record; false (and the problem recorded) if it is bad or one before was. */
  public boolean accept(Entry e) {
    if (problem != null) {
      return false;
    }
    long expected = lastSeq + 1;
    if (e.seq() != expected) {
      return fail(
          expected,
          "expected record "
              + expected
              + " but found record "
              + e.seq()
              + " (a record is missing or out of order)");
    }
    if (!Arrays.equals(e.prev(), lastHash)) {
      return fail(e.seq(), "its prev is not the hash of record " + lastSeq);
    }
    if (!Arrays.equals(AuditChain.recompute(e), e.hash())) {
      return fail(e.seq(), "its hash does not match its content (the record was changed)");
    }
    if (e.action().equals(AuditChain.CHECKPOINT) && !checkpoint(e)) {
      return false;
    }
    lastSeq = e.seq();
    lastHash = e.hash();
    return true;
  }

  private boolean checkpoint(Entry e) {
    Map<String, Object> d;
    try {
      d = AuditChain.parseObject(e.details());
    } catch (IllegalArgumentException bad) {
      return fail(e.seq(), "checkpoint details " + bad.getMessage());
    }
    if (!(d.get("seq") instanceof Number n) || n.longValue() != lastSeq) {
      return fail(e.seq(), "checkpoint does not name record " + lastSeq + ", the one before it");
    }
    if (!(d.get("hash") instanceof String h) || !h.equals(AuditChain.hex(lastHash))) {
      return fail(e.seq(), "checkpoint hash is not the hash of record " + lastSeq);
    }
    if (!signedBy(d.get("sig"), lastSeq, lastHash)) {
      return fail(e.seq(), "checkpoint signature does not verify with the given public key");
    }
    checkpoints++;
    anchoredThrough = e.seq();
    return true;
  }

  /** An export's end line: signs the last record; false (problem recorded) if it does not. */
  public boolean acceptEnd(long seq, byte[] hash, Object signature) {
    if (problem != null) {
      return false;
    }
    if (seq != lastSeq || !Arrays.equals(hash, lastHash)) {
      return fail(
          Math.min(seq, lastSeq) + 1,
          "the signed end line names record "
              + seq
              + " but the file's last record is "
              + lastSeq
              + " (records missing, added or changed at the end)");
    }
    if (!signedBy(signature, seq, hash)) {
      return fail(lastSeq, "the end line's signature does not verify with the given public key");
    }
    anchoredThrough = lastSeq;
    return true;
  }

  private boolean signedBy(Object sigHex, long seq, byte[] hash) {
    if (key == null || !(sigHex instanceof String s) || !s.matches("[0-9a-f]{128}")) {
      return false;
    }
    return AuditKeys.verify(key, AuditChain.anchorMessage(seq, hash), AuditChain.unhex(s));
  }

  /** Records a problem found outside the chain (a line that does not parse, say). */
  public boolean fail(long seq, String what) {
    if (problem == null) {
      badSeq = seq;
      problem = what;
    }
    return false;
  }

  /** The next record's expected sequence number. */
  public long nextSeq() {
    return lastSeq + 1;
  }

  public Report report() {
    long records = problem == null ? lastSeq : badSeq - 1;
    return new Report(records, checkpoints, lastSeq, anchoredThrough, badSeq, problem);
  }

  /** The signed end line of an export whose last record is {@code seq} with {@code hash}. */
  public static String endLine(long seq, byte[] hash, PrivateKey key) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("end_seq", seq);
    m.put("end_hash", AuditChain.hex(hash));
    m.put("sig", AuditChain.hex(AuditKeys.sign(key, AuditChain.anchorMessage(seq, hash))));
    return CanonicalJson.write(m);
  }

  /** Verifies an export file's bytes (see the class comment) with {@code key}. */
  public static Report verifyExport(byte[] file, PublicKey key) {
    AuditVerifier v = new AuditVerifier(key);
    if (file.length == 0 || file[file.length - 1] != '\n') {
      v.fail(1, "the file does not end with a newline (truncated)");
      return v.report();
    }
    int start = 0;
    int lineNo = 0;
    boolean ended = false;
    while (start < file.length && v.problem == null) {
      int end = start;
      while (file[end] != '\n') {
        end++;
      }
      lineNo++;
      byte[] line = Arrays.copyOfRange(file, start, end);
      if (ended) {
        v.fail(v.nextSeq(), "line " + lineNo + " follows the signed end line");
      } else {
        ended = v.acceptLine(lineNo, line);
      }
      start = end + 1;
    }
    if (!ended) {
      v.fail(v.nextSeq(), "the signed end line is missing (the export is truncated)");
    }
    return v.report();
  }

  /** One export line; true if it was the end line. */
  private boolean acceptLine(int lineNo, byte[] line) {
    String text = new String(line, StandardCharsets.UTF_8);
    Map<String, Object> m;
    try {
      m = AuditChain.parseObject(text);
    } catch (IllegalArgumentException e) {
      fail(nextSeq(), "line " + lineNo + " is not a JSON object: " + e.getMessage());
      return false;
    }
    try {
      if (m.containsKey("end_seq")) {
        long seq = ((Number) m.get("end_seq")).longValue();
        byte[] hash = AuditChain.unhex((String) m.get("end_hash"));
        String canonical = endLineOf(seq, hash, m.get("sig"));
        if (canonical != null && Arrays.equals(canonical.getBytes(StandardCharsets.UTF_8), line)) {
          acceptEnd(seq, hash, m.get("sig"));
          return true;
        }
      } else {
        Entry e = entryOf(m);
        if (Arrays.equals(AuditChain.line(e).getBytes(StandardCharsets.UTF_8), line)) {
          accept(e);
          return false;
        }
      }
    } catch (RuntimeException e) { // a field missing or of the wrong type
      fail(nextSeq(), "line " + lineNo + " is not an audit record: " + e);
      return false;
    }
    fail(nextSeq(), "line " + lineNo + " is not in canonical form (edited?)");
    return false;
  }

  private static String endLineOf(long seq, byte[] hash, Object sig) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("end_seq", seq);
    m.put("end_hash", AuditChain.hex(hash));
    m.put("sig", sig);
    return m.size() == 3 ? CanonicalJson.write(m) : null;
  }

  private static Entry entryOf(Map<String, Object> m) {
    return new Entry(
        ((Number) m.get("seq")).longValue(),
        ((Number) m.get("at_ms")).longValue(),
        (String) m.get("actor"),
        (String) m.get("action"),
        (String) m.get("target"),
        CanonicalJson.write((Map<?, ?>) m.get("details")),
        AuditChain.unhex((String) m.get("prev")),
        AuditChain.unhex((String) m.get("hash")));
  }
}
