package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.protocol.Hlc;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proof that {@code audit verify} detects any change to an exported log: a sample export
 * (records with escapes, non-ASCII text and nested details, checkpoints inside, a signed end line)
 * verifies; every byte flipped in turn (its lowest bit, and all its bits), every record deleted,
 * every pair of neighbours swapped, and the file truncated at every position is detected. The
 * export's canonical form is what makes this hold for every byte: no byte may change without the
 * verifier refusing the line.
 */
class AuditExportTamperTest {
  @TempDir static Path dir;
  private static SqliteCloudStore store;
  private static byte[] export;
  private static PublicKey key;

  @BeforeAll
  static void sampleExport() throws Exception {
    store = new SqliteCloudStore(dir.resolve(SyncServer.STORE_FILE));
    store.auditLog().enableCheckpoints(AuditKeys.loadOrCreate(dir), 2, 60_000);
    AuditLog log = store.auditLog();
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("roles", List.of("operator", "viewer"));
    nested.put("groups", Map.of("eu", true, "us", false));
    log.append("admin", "apikey.create", "key/ops", nested);
    log.append("ops", "command.queue", "device/gw-1", Map.of("name", "reboot", "ttl_ms", 60_000));
    log.append(
        "ops", "document.write", "fleet/config/k", Map.of("note", "quote \" slash \\ tab\t"));
    log.append("Zoë", "cert.issue", "device/gw-ü", withNull("serial", "0a1b"));
    log.append("$server", "enroll", "device/gw-2", Map.of());
    byte[] v = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    Hlc stamp = new Hlc(1_700_000_000_000L, 0, "gw-1");
    store
        .documents()
        .inTransactionAsync(
            tx -> {
              tx.audit(
                  new AuditRecord(
                      0,
                      9,
                      1,
                      "fleet",
                      "config",
                      "k",
                      "gw-1",
                      "manual",
                      "edge",
                      "ops",
                      1,
                      v,
                      2,
                      null,
                      stamp,
                      v,
                      stamp,
                      3,
                      v,
                      "taken from the edge"));
              return null;
            })
        .join();
    key = AuditKeys.readPublic(dir.resolve(AuditKeys.PUBLIC_FILE));
    store.close();
    StringWriter out = new StringWriter();
    AuditFiles.export(dir, out);
    export = out.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** {@code key: value} and {@code none: null}. */
  private static Map<String, Object> withNull(String key, Object value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(key, value);
    m.put("none", null);
    return m;
  }

  @AfterAll
  static void closeStore() {
    store.close();
  }

  private static AuditVerifier.Report verify(byte[] file) {
    return AuditVerifier.verifyExport(file, key);
  }

  @Test
  void theSampleExport_verifies_withCheckpointsAndTheEndLine() {
    AuditVerifier.Report r = verify(export);
    assertThat(r.summary()).isEqualTo("OK: 9 records (3 checkpoints), anchored through record 9");
    assertThat(lines(export)).hasSize(10);
  }

  /** About 20 s: most of it the Ed25519 verifications of the checkpoints before each flip. */
  @Test
  @Tag("slow")
  void everyByteFlipped_isDetected() {
    int[] masks = {0x01, 0xff}; // the lowest bit, and every bit
    for (int i = 0; i < export.length; i++) {
      for (int mask : masks) {
        byte[] changed = export.clone();
        changed[i] ^= (byte) mask;
        assertThat(verify(changed).ok()).as("byte %d xor 0x%02x", i, mask).isFalse();
      }
    }
  }

  @Test
  void everyRecordDeleted_isDetected_atTheRecordAfterIt() {
    List<byte[]> lines = lines(export);
    for (int i = 0; i < lines.size(); i++) {
      List<byte[]> changed = new ArrayList<>(lines);
      changed.remove(i);
      AuditVerifier.Report r = verify(join(changed));
      assertThat(r.ok()).as("line %d deleted", i + 1).isFalse();
      if (i < lines.size() - 1) {
        assertThat(r.badSeq()).as("line %d deleted: %s", i + 1, r.summary()).isEqualTo(i + 1);
      }
    }
  }

  @Test
  void everyPairOfNeighboursSwapped_isDetected() {
    List<byte[]> lines = lines(export);
    for (int i = 0; i + 1 < lines.size(); i++) {
      List<byte[]> changed = new ArrayList<>(lines);
      changed.set(i, lines.get(i + 1));
      changed.set(i + 1, lines.get(i));
      assertThat(verify(join(changed)).ok()).as("lines %d and %d swapped", i + 1, i + 2).isFalse();
    }
  }

  @Test
  void truncationAtEveryPosition_isDetected() {
    for (int length = 0; length < export.length; length++) {
      AuditVerifier.Report r = verify(Arrays.copyOf(export, length));
      assertThat(r.ok()).as("truncated to %d bytes", length).isFalse();
    }
  }

  /**
   * Changes that decode to the same record (the bytes a byte flip of 0x20 or an inserted space
   * make) are refused too: the line must be the canonical form.
   */
  @Test
  void aLineThatDecodesToTheSameRecordButIsNotCanonical_isRefused() {
    String text = new String(export, StandardCharsets.UTF_8);
    int hashAt = text.indexOf("\"hash\":\"") + 8;
    int letter = hashAt;
    while (!Character.isLetter(text.charAt(letter))) {
      letter++;
    }
    String upperHex =
        text.substring(0, letter)
            + Character.toUpperCase(text.charAt(letter))
            + text.substring(letter + 1);
    String spaced = text.replaceFirst(",", ", ");
    String reordered =
        text.replaceFirst(
            Pattern.quote("{\"action\":\"apikey.create\",\"actor\":\"admin\","),
            Matcher.quoteReplacement("{\"actor\":\"admin\",\"action\":\"apikey.create\","));
    for (String changed : List.of(upperHex, spaced, reordered)) {
      assertThat(changed).isNotEqualTo(text);
      AuditVerifier.Report r = verify(changed.getBytes(StandardCharsets.UTF_8));
      assertThat(r.summary())
          .isEqualTo("FAILED at record 1: line 1 is not in canonical form (edited?)");
    }
  }

  @Test
  void aLineAppendedAfterTheEndLine_isDetected() {
    List<byte[]> lines = lines(export);
    List<byte[]> changed = new ArrayList<>(lines);
    changed.add(lines.get(0));
    assertThat(verify(join(changed)).summary()).contains("follows the signed end line");
  }

  @Test
  void aRecordRewrittenWithARecomputedChain_isDetectedByTheSignatures() {
    // An attacker without the key rewrites record 2 and recomputes every hash after it: the
    // checkpoint and end-line signatures no longer match.
    List<byte[]> lines = lines(export);
    List<AuditChain.Entry> entries = new ArrayList<>();
    for (byte[] line : lines.subList(0, lines.size() - 1)) {
      Map<String, Object> m = AuditChain.parseObject(new String(line, StandardCharsets.UTF_8));
      entries.add(
          new AuditChain.Entry(
              ((Number) m.get("seq")).longValue(),
              ((Number) m.get("at_ms")).longValue(),
              (String) m.get("actor"),
              (String) m.get("action"),
              (String) m.get("target"),
              CanonicalJson.write(m.get("details")),
              null,
              null));
    }
    byte[] prev = new byte[AuditChain.HASH_BYTES];
    StringBuilder forged = new StringBuilder();
    for (AuditChain.Entry e : entries) {
      String actor = e.seq() == 2 ? "someone-else" : e.actor();
      byte[] h =
          AuditChain.hash(e.seq(), e.atMs(), actor, e.action(), e.target(), e.details(), prev);
      forged.append(
          AuditChain.line(
              new AuditChain.Entry(
                  e.seq(), e.atMs(), actor, e.action(), e.target(), e.details(), prev, h)));
      forged.append('\n');
      prev = h;
    }
    forged.append(new String(lines.get(lines.size() - 1), StandardCharsets.UTF_8)).append('\n');
    AuditVerifier.Report r = verify(forged.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(r.summary())
        .startsWith("FAILED at record 3: checkpoint hash is not the hash of record 2");
  }

  private static List<byte[]> lines(byte[] file) {
    List<byte[]> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < file.length; i++) {
      if (file[i] == '\n') {
        out.add(Arrays.copyOfRange(file, start, i));
        start = i + 1;
      }
    }
    return out;
  }

  private static byte[] join(List<byte[]> lines) {
    StringBuilder s = new StringBuilder();
    for (byte[] line : lines) {
      s.append(new String(line, StandardCharsets.UTF_8)).append('\n');
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }
}
