package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The committed current versions of recently used document keys, so that the key lookup every
 * change starts with is a map lookup: least recently used evicted first, bounded by an estimate of
 * their bytes (values plus {@value #ENTRY_OVERHEAD_BYTES} bytes and the key's characters per
 * entry). Write-through: a group's versions enter it only once the group committed.
 *
 * <p>Not thread safe: used only under the document store's monitor.
 */
final class DocCache {
  private static final int ENTRY_OVERHEAD_BYTES = 200;

  private final LinkedHashMap<DocKey, StoredDoc> entries = new LinkedHashMap<>(1024, 0.75f, true);
  private final long maxBytes;
  private long bytes;

  DocCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The cached current version, or null. */
  StoredDoc get(DocKey k) {
    return entries.get(k);
  }

  void store(DocKey k, StoredDoc d) {
    StoredDoc old = entries.put(k, d);
    if (old != null) {
      bytes -= size(k, old);
    }
    bytes += size(k, d);
    if (bytes > maxBytes) {
      Iterator<Map.Entry<DocKey, StoredDoc>> it = entries.entrySet().iterator(); // LRU first
      while (bytes > maxBytes && it.hasNext()) {
        Map.Entry<DocKey, StoredDoc> e = it.next();
        bytes -= size(e.getKey(), e.getValue());
        it.remove();
      }
    }
  }

  /** Forgets every entry (another server node wrote documents this cache may hold). */
  void clear() {
    entries.clear();
    bytes = 0;
  }

  void evict(DocKey k) {
    StoredDoc old = entries.remove(k);
    if (old != null) {
      bytes -= size(k, old);
    }
  }

  private static long size(DocKey k, StoredDoc d) {
    return ENTRY_OVERHEAD_BYTES
        + 2L * (k.scope().length() + k.collection().length() + k.key().length())
        + (d.value() == null ? 0 : d.value().length);
  }
}
