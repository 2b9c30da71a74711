package io.edgesync.engine.dict;

import io.edgesync.protocol.codec.Dictionary;
import java.util.List;

/**
 * Where the cloud keeps trained dictionaries (the port; {@code SqliteDictionaries} in the server
 * shares the cloud's SQLite file). Ids are versions: {@link #allocateId()} never returns an id
 * twice, not even after the dictionary that had it was deleted. Thread safe.
 */
public interface DictionaryStore {
  /** A stored dictionary. */
  record Stored(String stream, Dictionary dictionary, long trainedAtMs) {}

  /**
   * A new dictionary id for a training of {@code stream}, durable before it is returned: never
   * handed out again, also if the training fails and the id is never saved.
   */
  int allocateId(String stream);

  /**
   * Stores a trained dictionary of {@code stream} (its id from {@link #allocateId}) and deletes the
   * stream's older ones beyond the newest {@code keepPerStream}, in one transaction. Returns the
   * ids deleted.
   */
  List<Integer> save(String stream, Dictionary dictionary, long trainedAtMs, int keepPerStream);

  /** Every stored dictionary, oldest id first. */
  List<Stored> all();

  /**
   * Sample records for training: the payloads of the newest stored records of {@code stream}, from
   * every device that sent it (each device contributes about an equal share), at most {@code
   * maxBytes} in total.
   */
  List<byte[]> samples(String stream, long maxBytes);
}
