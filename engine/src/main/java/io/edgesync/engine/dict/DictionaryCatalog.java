package io.edgesync.engine.dict;

import io.edgesync.protocol.codec.Dictionary;
import java.util.Collection;
import java.util.List;

/**
 * The cloud's trained dictionaries as a {@code CloudSession} sees them: which to ship to a device,
 * which a batch may name, and where committed record bytes are reported so that training can be
 * scheduled. The server's implementation keeps them in memory, backed by the store, and trains on a
 * thread of its own: every method here returns at once.
 */
public interface DictionaryCatalog {
  /** A dictionary of a stream, as shipped. */
  record StreamDictionary(String stream, Dictionary dictionary, long trainedAtMs) {}

  /** No dictionaries: nothing is shipped, a batch naming one is refused. */
  DictionaryCatalog NONE =
      new DictionaryCatalog() {
        @Override
        public List<StreamDictionary> newest(Collection<String> streams) {
          return List.of();
        }

        @Override
        public Dictionary byId(int id) {
          return null;
        }

        @Override
        public void onCommitted(String stream, long recordBytes, long nowMs) {}
      };

  /** The newest dictionary of each of these streams that has one, in the given order. */
  List<StreamDictionary> newest(Collection<String> streams);

  /** A dictionary the cloud keeps, by id, or null. */
  Dictionary byId(int id);

  /**
   * Records of {@code stream} with {@code recordBytes} payload bytes were committed, from a batch
   * in a codec that can use a dictionary (ZSTD, ZSTD_STREAM).
   */
  void onCommitted(String stream, long recordBytes, long nowMs);

  /** A batch decoded with dictionary {@code id} (for the operator's view). */
  default void onUsed(int id) {}

  /** Dictionary {@code id} was sent to a device (for the operator's view). */
  default void onShipped(int id) {}
}
