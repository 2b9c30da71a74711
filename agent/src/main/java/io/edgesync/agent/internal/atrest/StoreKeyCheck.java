package io.edgesync.agent.internal.atrest;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.edgesync.agent.StorageKeyException;
import io.edgesync.agent.StorageKeyException.Reason;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Base64;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks at open that a store and the configured keyring belong together, before any value is read
 * or written. A store's meta table holds {@code encryption} ({@code aes-256-gcm} once encrypted),
 * {@code encryption_key_ids} (the key ids that sealed its values, e.g. {@code 1,2}) and, per id,
 * {@code key_check:<id>}: a known text sealed under that key (base64). Each held id's check must
 * open; an id the keyring lacks is retired only when no value under it remains.
 *
 * <p>Runs in the caller's transaction (which commits it); not thread safe.
 */
public final class StoreKeyCheck {
  private static final Logger log = LoggerFactory.getLogger(StoreKeyCheck.class);
  static final String MARK = "encryption";
  static final String MARK_VALUE = "aes-256-gcm";
  static final String IDS = "encryption_key_ids";
  static final String CHECK = "key_check:";
  private static final byte[] CHECK_TEXT = "edgesync at-rest key check v1".getBytes(UTF_8);

  /** A store's meta table and what it holds. */
  public interface Meta {
    String get(String key) throws SQLException;

    void put(String key, String value) throws SQLException;

    void remove(String key) throws SQLException;

    /** Whether the store holds any value that would be sealed if encryption were on. */
    boolean holdsValues() throws SQLException;

    /** How many stored values are sealed under {@code keyId}. */
    long valuesUnder(int keyId) throws SQLException;
  }

  private StoreKeyCheck() {}

  /**
   * Verifies (and on first use records) the store's keys.
   *
   * @throws StorageKeyException {@code KEY_MISSING}, {@code WRONG_KEY} or {@code
   *     UNENCRYPTED_STORE}, naming the store; nothing is changed then
   */
  public static void verify(StorageCipher cipher, String store, Meta meta) throws SQLException {
    boolean encrypted = MARK_VALUE.equals(meta.get(MARK));
    if (!encrypted) {
      if (cipher.enabled()) {
        if (meta.holdsValues()) {
          throw new StorageKeyException(
              Reason.UNENCRYPTED_STORE,
              store
                  + " holds unencrypted values; encryption can be turned on only for an empty"
                  + " store (see docs/security.md: let the outbox drain, or move the file away)");
        }
        meta.put(MARK, MARK_VALUE);
        record(cipher, meta, new TreeSet<>());
      }
      return;
    }
    TreeSet<Integer> ids = ids(meta.get(IDS));
    if (!cipher.enabled()) {
      throw new StorageKeyException(
          Reason.KEY_MISSING,
          store
              + " is encrypted (key ids "
              + ids
              + ") but no key is configured (storage.encryption.key_file or "
              + StorageKeys.ENV
              + ")");
    }
    for (int id : new TreeSet<>(ids)) {
      if (cipher.holds(id)) {
        checkKey(cipher, store, meta, id);
      } else {
        retire(cipher, store, meta, ids, id);
      }
    }
    record(cipher, meta, ids);
  }

  private static void checkKey(StorageCipher cipher, String store, Meta meta, int id)
      throws SQLException {
    String sealed = meta.get(CHECK + id);
    byte[] opened;
    try {
      opened = cipher.open(CHECK + id, Base64.getDecoder().decode(sealed == null ? "" : sealed));
    } catch (StorageKeyException | IllegalArgumentException e) {
      throw new StorageKeyException(
          Reason.WRONG_KEY,
          "key id " + id + " in " + cipher.source() + " is not the key that encrypted " + store);
    }
    if (!Arrays.equals(opened, CHECK_TEXT)) {
      throw new StorageKeyException(
          Reason.WRONG_KEY, "key id " + id + " opens a wrong key check in " + store);
    }
  }

  private static void retire(
      StorageCipher cipher, String store, Meta meta, TreeSet<Integer> ids, int id)
      throws SQLException {
    long left = meta.valuesUnder(id);
    if (left > 0) {
      throw new StorageKeyException(
          Reason.KEY_MISSING,
          store
              + " holds "
              + left
              + " values encrypted under key id "
              + id
              + ", which "
              + cipher.source()
              + " does not hold (it holds "
              + cipher.keyIds()
              + ")");
    }
    ids.remove(id);
    meta.remove(CHECK + id);
    log.info("{}: key id {} retired: no value under it remains", store, id);
  }

  private static void record(StorageCipher cipher, Meta meta, TreeSet<Integer> ids)
      throws SQLException {
    int current = cipher.currentKeyId();
    if (!ids.contains(current)) {
      meta.put(
          CHECK + current,
          Base64.getEncoder().encodeToString(cipher.seal(CHECK + current, CHECK_TEXT)));
      ids.add(current);
    }
    meta.put(IDS, ids.stream().map(String::valueOf).collect(Collectors.joining(",")));
  }

  private static TreeSet<Integer> ids(String list) {
    TreeSet<Integer> ids = new TreeSet<>();
    if (list != null && !list.isBlank()) {
      for (String s : list.split(",")) {
        ids.add(Integer.parseInt(s.strip()));
      }
    }
    return ids;
  }
}
