package io.edgesync.agent;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The device's documents: a local replica that applications read and write while online or offline,
 * kept in step with the cloud by the agent. A write is durable on this device when the call returns
 * and synced when connected.
 *
 * <p>Scopes: {@code device} ({@link #DEVICE}, this device's documents), {@code fleet} and {@code
 * group:<name>} (shared with the cloud and other devices; conflicts are decided by the collection's
 * strategy on the cloud). The methods without a scope act on {@code device}.
 *
 * <p>Errors: invalid arguments (an unknown collection, a bad key or scope, a document above {@link
 * #maxDocumentBytes}, malformed JSON) throw {@link IllegalArgumentException} naming the problem and
 * store nothing; a failing disk throws {@link EdgeSyncException} with {@code STORAGE}, use after
 * the agent closed with {@code CLOSED}.
 *
 * <p>Thread safe.
 */
public interface Documents {
  /** The scope of this device's own documents. */
  String DEVICE = "device";

  /** The document in this device's scope, if it exists. */
  default Optional<Document> get(String collection, String key) {
    return get(DEVICE, collection, key);
  }

  /** The document in a scope ({@code device}, {@code fleet}, {@code group:<name>}). */
  Optional<Document> get(String scope, String collection, String key);

  /** Documents of a collection in key order after {@code afterKey} ("" = from the start). */
  List<Document> list(String scope, String collection, String afterKey, int limit);

  /** Writes a document of this device; durable when it returns, synced when connected. */
  default Document put(String collection, String key, JsonNode value) {
    return put(DEVICE, collection, key, value);
  }

  /**
   * Writes a document of a scope this device reads: {@code device}, or a shared one ({@code fleet},
   * {@code group:<name>}) that the cloud and other devices may edit too.
   */
  Document put(String scope, String collection, String key, JsonNode value);

  /** Writes a document of this device from JSON text. */
  Document put(String collection, String key, String json);

  /** Deletes a document of this device (a tombstone that syncs); false if it did not exist. */
  default boolean delete(String collection, String key) {
    return delete(DEVICE, collection, key);
  }

  /** Deletes a document of a scope; false if it did not exist. */
  boolean delete(String scope, String collection, String key);

  /**
   * Calls {@code listener} with every change of the collection (local or from the cloud), on the
   * thread that made it. Close the token to stop.
   */
  AutoCloseable watch(String scope, String collection, Consumer<Document> listener);

  /** The declared collections; writes to others are refused. */
  Set<String> collections();

  /** The largest document accepted, in bytes of its JSON. */
  int maxDocumentBytes();

  /** Documents with a local change waiting for the cloud's outcome. */
  long pendingCount();
}
