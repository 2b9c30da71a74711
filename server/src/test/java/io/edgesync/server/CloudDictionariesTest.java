package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.dict.DictionaryCatalog;
import io.edgesync.engine.dict.DictionaryRules;
import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.protocol.Record;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cloud's dictionaries on a real store (SQLite and PostgreSQL): trained from what devices
 * committed (every device contributes), stored durably with ids that are never reused, the newest
 * {@code keep_per_stream} kept, and trained on the trainer thread when the schedule says so.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class CloudDictionariesTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String STREAM = "sensor_data";

  @RegisterExtension final StoreFile db;

  CloudDictionariesTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private static List<Record> records(String device, long first, int n) {
    List<Record> out = new ArrayList<>();
    for (long s = first; s < first + n; s++) {
      out.add(
          new Record(
              s,
              T0 + s * 1000,
              String.format(
                      Locale.ROOT,
                      "{\"device_id\":\"%s\",\"ts\":%d,\"temperature_c\":%.2f,\"status\":\"ok\"}",
                      device,
                      T0 + s * 1000,
                      20 + (s % 31) / 10.0)
                  .getBytes(UTF_8)));
    }
    return out;
  }

  private static void commit(SqliteCloudStore store, String device, long first, int n)
      throws Exception {
    store.registerDevice(device, T0);
    for (long s = first; s < first + n; s += 100) {
      store.commitRecords(
          device, STREAM, records(device, s, (int) Math.min(100, first + n - s)), T0);
    }
  }

  private static DictionaryRules rules(long sampleBytes, long minIntervalMs) {
    return new DictionaryRules(true, sampleBytes, 2048, minIntervalMs, 2, 16);
  }

  @Test
  void samplesComeFromEveryDevice_newestFirst_withinTheByteBound() throws Exception {
    try (SqliteCloudStore store = db.open()) {
      commit(store, "dev-a", 1, 1000);
      commit(store, "dev-b", 1, 1000);
      List<byte[]> samples = store.dictionaries().samples(STREAM, 20_000);
      long bytes = samples.stream().mapToLong(s -> s.length).sum();
      assertThat(bytes).isBetween(19_000L, 20_200L);
      long fromA = samples.stream().filter(s -> new String(s, UTF_8).contains("dev-a")).count();
      long fromB = samples.stream().filter(s -> new String(s, UTF_8).contains("dev-b")).count();
      assertThat(fromA).isBetween(fromB - 2, fromB + 2);
      // Newest first: device a's first sample is its last record.
      assertThat(new String(samples.get(0), UTF_8)).contains("\"ts\":" + (T0 + 1000 * 1000L));
    }
  }

  @Test
  void idsAreNeverReused_olderVersionsBeyondKeepAreDeleted_andEverythingSurvivesAReopen()
      throws Exception {
    FakeClock clock = new FakeClock(T0);
    List<Integer> ids = new ArrayList<>();
    try (SqliteCloudStore store = db.open()) {
      commit(store, "dev-a", 1, 2000);
      CloudDictionaries cloud =
          new CloudDictionaries(rules(40_000, 0), store.dictionaries(), clock);
      for (int i = 0; i < 3; i++) {
        clock.advance(1000);
        ids.add(cloud.trainNow(STREAM).dictionary().id());
      }
      assertThat(ids).containsExactly(1, 2, 3);
      assertThat(cloud.byId(1)).isNull(); // keep_per_stream 2
      assertThat(cloud.byId(2)).isNotNull();
      assertThat(cloud.newest(List.of(STREAM)).get(0).dictionary().id()).isEqualTo(3);
      // A failed training (no samples) still uses up an id.
      assertThat(cloud.trainNow("empty")).isNull();
      cloud.close();
    }
    try (SqliteCloudStore store = db.open()) {
      CloudDictionaries cloud =
          new CloudDictionaries(rules(40_000, 0), store.dictionaries(), clock);
      List<DictionaryStore.Stored> all = store.dictionaries().all();
      assertThat(all).extracting(s -> s.dictionary().id()).containsExactly(2, 3);
      assertThat(cloud.byId(3).bytes()).isEqualTo(all.get(1).dictionary().bytes());
      DictionaryCatalog.StreamDictionary next = cloud.trainNow(STREAM);
      assertThat(next.dictionary().id()).isEqualTo(5); // 4 went to the failed training
      assertThat(store.dictionaries().all())
          .extracting(s -> s.dictionary().id())
          .containsExactly(3, 5);
      cloud.close();
    }
  }

  @Test
  void committedBytes_startATrainingOnTheTrainerThread_andTheListenerHearsOfIt() throws Exception {
    FakeClock clock = new FakeClock(T0);
    try (SqliteCloudStore store = db.open()) {
      commit(store, "dev-a", 1, 1000);
      CloudDictionaries cloud =
          new CloudDictionaries(rules(30_000, 60_000), store.dictionaries(), clock);
      List<String> heard = new CopyOnWriteArrayList<>();
      cloud.onNewDictionary(
          d -> heard.add(Thread.currentThread().getName() + ":" + d.dictionary().id()));
      cloud.onCommitted(STREAM, 29_000, clock.nowMs());
      Thread.sleep(50);
      assertThat(heard).isEmpty();
      cloud.onCommitted(STREAM, 1_000, clock.nowMs());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (heard.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(heard).containsExactly("edgesync-dict:1");
      // Within min_interval_ms, more bytes start nothing.
      cloud.onCommitted(STREAM, 100_000, clock.nowMs() + 1);
      Thread.sleep(200);
      assertThat(cloud.trainings()).isEqualTo(1);
      cloud.close();
    }
  }
}
