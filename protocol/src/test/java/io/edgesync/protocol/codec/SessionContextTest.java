package io.edgesync.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SessionContextTest {

  private static Dictionary dictionary() {
    List<byte[]> samples = new ArrayList<>();
    for (long s = 100; s < 104; s++) {
      samples.addAll(TestBatches.telemetry(s, 500));
    }
    return Dictionary.train(11, samples, 4096);
  }

  private static List<Record> stream(long seed, int n) {
    List<byte[]> payloads = new ArrayList<>(TestBatches.telemetry(seed, n));
    // A few other shapes and non-JSON records mixed into the stream.
    List<byte[]> mixed = TestBatches.mixed(seed, n / 10);
    for (int i = 0; i < mixed.size(); i++) {
      payloads.set(i * 10 + 3, mixed.get(i));
    }
    return TestBatches.records(payloads, 1, seed);
  }

  /** 1,000 consecutive batches of a session decode in order, each carrying the context on. */
  @ParameterizedTest
  @EnumSource(
      value = Codec.class,
      names = {"ZSTD_STREAM", "TEMPLATE_STREAM"})
  void contextCarriedOver1000Batches_thenResetStartsAfresh(Codec codec) throws Exception {
    Dictionary dict = dictionary();
    List<Record> records = stream(21, 4000);
    SplittableRandom sizes = new SplittableRandom(21);
    CodecSettings settings = CodecSettings.auto().withDictionary(dict);
    try (BatchEncoder enc = new BatchEncoder(settings);
        BatchDecoder dec =
            new BatchDecoder(List.of(dict), BatchDecoder.DEFAULT_MAX_DECODED_BYTES)) {
      int at = 0;
      long session = 0;
      long stateless = 0;
      BatchEncoder alone = new BatchEncoder(settings);
      for (int b = 0; b < 1000; b++) {
        int size = 1 + sizes.nextInt(6);
        List<Record> batch = records.subList(at, at + size);
        EncodedBatch e = enc.encode(batch, codec);
        assertThat(dec.decode(codec, e.payload(), batch.get(0).sequence(), size))
            .as("batch %d", b)
            .isEqualTo(batch);
        session += e.payload().length;
        stateless += alone.encode(batch, Codec.ZSTD).payload().length;
        at += size;
      }
      alone.close();
      // The context pays: the session's batches are smaller than the same batches each
      // compressed on its own, even with the same dictionary (ZSTD_STREAM measured at 82%).
      assertThat(session).isLessThan(stateless * 9 / 10);

      // A new session on both sides: the next batch decodes on its own.
      enc.resetSession();
      dec.resetSession();
      List<Record> batch = records.subList(at, at + 3);
      EncodedBatch e = enc.encode(batch, codec);
      assertThat(dec.decode(codec, e.payload(), batch.get(0).sequence(), 3)).isEqualTo(batch);

      // A decoder that missed the start of the session cannot decode, and says so.
      List<Record> next = records.subList(at + 3, at + 6);
      EncodedBatch continued = enc.encode(next, codec);
      try (BatchDecoder fresh =
          new BatchDecoder(List.of(dict), BatchDecoder.DEFAULT_MAX_DECODED_BYTES)) {
        assertThatThrownBy(
                () -> fresh.decode(codec, continued.payload(), next.get(0).sequence(), 3))
            .isInstanceOf(ProtocolException.class)
            .hasMessageStartingWith("invalid " + codec + " payload: ");
        // Once failed, the session stays failed until reset.
        assertThatThrownBy(() -> fresh.decode(codec, e.payload(), batch.get(0).sequence(), 3))
            .isInstanceOf(ProtocolException.class)
            .hasMessage(
                "invalid "
                    + codec
                    + " payload: cannot be decoded: the session's state was lost at an earlier"
                    + " invalid batch");
        fresh.resetSession();
        assertThat(fresh.decode(codec, e.payload(), batch.get(0).sequence(), 3)).isEqualTo(batch);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Codec.class,
      names = {"ZSTD_STREAM", "TEMPLATE_STREAM"})
  void batchDecodedTwice_failsInsteadOfReturningOtherRecords(Codec codec) throws Exception {
    List<Record> records = stream(5, 400);
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto());
        BatchDecoder dec = new BatchDecoder()) {
      EncodedBatch a = enc.encode(records.subList(0, 200), codec);
      EncodedBatch b = enc.encode(records.subList(200, 210), codec);
      dec.decode(codec, a.payload(), 1, 200);
      dec.decode(codec, b.payload(), 201, 10);
      // A replayed batch meets a state that moved on.
      assertThatThrownBy(() -> dec.decode(codec, b.payload(), 201, 10))
          .isInstanceOf(ProtocolException.class)
          .extracting(x -> ((ProtocolException) x).code())
          .isEqualTo(ErrorCode.INVALID_BATCH);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Codec.class,
      names = {"ZSTD", "ZSTD_STREAM"})
  void unknownDictionary_isRefusedByName(Codec codec) throws Exception {
    Dictionary dict = dictionary();
    List<Record> records = stream(6, 100);
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto().withDictionary(dict));
        BatchDecoder dec = new BatchDecoder()) {
      EncodedBatch e = enc.encode(records, codec);
      assertThatThrownBy(() -> dec.decode(codec, e.payload(), 1, 100))
          .isInstanceOf(ProtocolException.class)
          .hasMessage(
              "invalid "
                  + codec
                  + " payload: names dictionary 11, which this decoder does not have");
    }
  }
}
