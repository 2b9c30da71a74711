package io.edgesync.engine.cloud;

import com.google.protobuf.ByteString;
import io.edgesync.engine.dict.DictionaryCatalog;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.StreamDictionary;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * One session's trained dictionaries (docs/codecs.md, "Dictionaries"): which the device holds or
 * was sent, the newest of each of its streams shipped in Welcome or as frames of their own, and
 * what its batches tell the {@link DictionaryCatalog} (a dictionary used, bytes committed).
 *
 * <p>Not thread safe: used under the {@link CloudSession}'s lock.
 */
final class SessionDictionaries {
  /** Frame bytes a Welcome keeps free of dictionaries (checkpoints, capabilities, scopes). */
  private static final int WELCOME_RESERVE_BYTES = 64 * 1024;

  private final int maxFrameBytes;
  private final Consumer<Frame> send;
  private DictionaryCatalog catalog = DictionaryCatalog.NONE;

  /** The device's streams (from Hello and its batches): dictionaries of these are shipped. */
  private final Set<String> deviceStreams = new HashSet<>();

  /** Dictionary ids the device holds or was sent in this session. */
  private final Set<Integer> shipped = new HashSet<>();

  private long sent;

  /** {@code send}: the session's output for dictionary frames. */
  SessionDictionaries(int maxFrameBytes, Consumer<Frame> send) {
    this.maxFrameBytes = maxFrameBytes;
    this.send = send;
  }

  void use(DictionaryCatalog catalog) {
    this.catalog = catalog;
  }

  DictionaryCatalog catalog() {
    return catalog;
  }

  /** Dictionaries sent to the device (in Welcome and as frames). */
  long sent() {
    return sent;
  }

  /** The cloud trained a new dictionary: sent if the device has the stream and lacks it. */
  void onTrained(DictionaryCatalog.StreamDictionary d) {
    if (deviceStreams.contains(d.stream())) {
      ship(d);
    }
  }

  /**
   * Fills Welcome's dictionary part: the ids of Hello the cloud still keeps, and the newest
   * dictionary of each of the device's streams ({@code hello}'s and {@code cloudStreams}) it does
   * not hold, as many as fit the frame. Returns those that did not fit (to send as frames of their
   * own right after Welcome).
   */
  List<DictionaryCatalog.StreamDictionary> welcome(
      Hello hello, Collection<String> cloudStreams, Welcome.Builder welcome) {
    for (StreamCheckpoint cp : hello.getCheckpointsList()) {
      if (ProtocolLimits.isValidStreamName(cp.getStream())) {
        deviceStreams.add(cp.getStream());
      }
    }
    deviceStreams.addAll(cloudStreams);
    for (int id : hello.getDictionaryIdsList()) {
      if (id > 0 && catalog.byId(id) != null && shipped.add(id)) {
        welcome.addDictionaryIds(id);
      }
    }
    List<DictionaryCatalog.StreamDictionary> later = new ArrayList<>();
    long budget = (long) maxFrameBytes - WELCOME_RESERVE_BYTES;
    for (DictionaryCatalog.StreamDictionary d : catalog.newest(new TreeSet<>(deviceStreams))) {
      if (shipped.contains(d.dictionary().id())) {
        continue;
      }
      StreamDictionary wire = wire(d);
      if (wire.getSerializedSize() + 16 <= budget) {
        welcome.addDictionaries(wire);
        budget -= wire.getSerializedSize() + 16;
        shipped.add(d.dictionary().id());
        sent++;
        catalog.onShipped(d.dictionary().id());
      } else {
        later.add(d);
      }
    }
    return later;
  }

  /**
   * A batch of {@code stream} was committed: the dictionary it named ({@code dictionaryId}, 0 for
   * none) was used, its records' bytes count towards training, and a stream new to the session gets
   * its dictionary.
   */
  void onBatch(String stream, Codec codec, int dictionaryId, List<Record> records, long nowMs) {
    if (dictionaryId != 0) {
      catalog.onUsed(dictionaryId);
    }
    if (codec == Codec.ZSTD || codec == Codec.ZSTD_STREAM) {
      // Only devices that send these codecs can use a dictionary: streams synced with the JSON
      // codecs (auto's TEMPLATE_STREAM, COLUMNAR) or gzip never cost the cloud a training.
      long recordBytes = 0;
      for (Record r : records) {
        recordBytes += r.payload().length;
      }
      catalog.onCommitted(stream, recordBytes, nowMs);
    }
    if (deviceStreams.add(stream)) {
      // A stream the device had not named in Hello: ship its dictionary, if there is one.
      for (DictionaryCatalog.StreamDictionary sd : catalog.newest(List.of(stream))) {
        ship(sd);
      }
    }
  }

  /** Sends one dictionary as a frame of its own, unless the device has it or it cannot fit. */
  void ship(DictionaryCatalog.StreamDictionary d) {
    if (shipped.contains(d.dictionary().id())) {
      return;
    }
    StreamDictionary wire = wire(d);
    // A frame above the device's limit would end the session; such a dictionary is not shipped
    // (a server with tiny frames and big dictionaries is a configuration the docs warn about).
    if (wire.getSerializedSize() + 64 > maxFrameBytes) {
      return;
    }
    shipped.add(d.dictionary().id());
    sent++;
    catalog.onShipped(d.dictionary().id());
    send.accept(Frame.newBuilder().setDictionary(wire).build());
  }

  private static StreamDictionary wire(DictionaryCatalog.StreamDictionary d) {
    return StreamDictionary.newBuilder()
        .setStream(d.stream())
        .setId(d.dictionary().id())
        .setData(ByteString.copyFrom(d.dictionary().bytes()))
        .setTrainedAtMs(d.trainedAtMs())
        .build();
  }
}
