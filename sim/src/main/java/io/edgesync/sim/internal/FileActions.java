package io.edgesync.sim.internal;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * What the simulated users do with files (files seeds): an operator publishes the next version of a
 * path (an edit of the previous one) to every device or, in some seeds, first to a random subset;
 * the rollout of a path's newest version reaches a device it had not reached; a device's program
 * queues an upload (a new file, or a new version of one it uploaded, now and then into a collection
 * the cloud refuses). Contents come from the world's files generator, so the workload's own draws
 * decide only which action runs when.
 */
final class FileActions {
  private FileActions() {}

  static List<Action> all() {
    return List.of(new Publish(), new RollOn(), new Upload());
  }

  /** At the start, the cloud publishes the first version of every path. */
  static void firstPublish(World world) {
    for (String path : world.fileScenario().paths()) {
      long at = world.now() + world.filesRandom().nextInt(0, 1_000);
      world.events().at(at, () -> publish(world, world.filesRandom(), path));
    }
  }

  /**
   * Publishes the next version of {@code path}; nothing if the cloud is down or the path is done.
   */
  static void publish(World world, RandomGenerator random, String path) {
    FileScenario fs = world.fileScenario();
    int index = fs.paths().indexOf(path);
    FileLedger ledger = world.fileLedger();
    List<FileLedger.Version> versions = ledger.versions(path);
    if (versions.size() >= fs.maxVersions().get(index)) {
      return;
    }
    if (!world.cloud().alive()) {
      world.trace("cloud down: publish of " + path + " not done");
      return;
    }
    byte[] content =
        versions.isEmpty()
            ? FileContent.first(world.filesRandom(), fs.firstSizes().get(index))
            : FileContent.edit(world.filesRandom(), versions.get(versions.size() - 1).content());
    Set<String> targets = new TreeSet<>();
    boolean subset = world.filesRandom().nextInt(100) < fs.subsetPercent();
    for (SimEdge e : world.edges()) {
      if (!subset || world.filesRandom().nextBoolean()) {
        targets.add(e.deviceId());
      }
    }
    FileLedger.Version v = ledger.publish(path, content);
    world.trace(
        "cloud publishes "
            + v.transferId()
            + " ("
            + content.length
            + " bytes) to "
            + (subset ? targets : "every device"));
    world.stats().add("files.published", 1);
    world.cloud().publish(v, targets);
  }

  /** The operator publishes the next version of a path. */
  private static final class Publish implements Action {
    @Override
    public String name() {
      return "filePublish";
    }

    @Override
    public int weight(World world) {
      return 6;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      List<String> paths = world.fileScenario().paths();
      publish(world, random, paths.get(random.nextInt(paths.size())));
    }
  }

  /** A rollout goes on: a path's newest version reaches one more device. */
  private static final class RollOn implements Action {
    @Override
    public String name() {
      return "fileRollOn";
    }

    @Override
    public int weight(World world) {
      return 3;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      List<String> paths = world.fileScenario().paths();
      List<FileLedger.Version> versions =
          world.fileLedger().versions(paths.get(random.nextInt(paths.size())));
      if (versions.isEmpty()) {
        return;
      }
      FileLedger.Version newest = versions.get(versions.size() - 1);
      SimEdge e = world.randomEdge(random);
      if (!newest.targets().contains(e.deviceId())) {
        world.cloud().rollOn(newest, e.deviceId());
      }
    }
  }

  /** A device's program queues an upload. */
  private static final class Upload implements Action {
    @Override
    public String name() {
      return "fileUpload";
    }

    @Override
    public int weight(World world) {
      return world.fileScenario().uploads().contains(true) ? 6 : 0;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      if (!world.fileScenario().uploads().get(e.index()) || !e.alive()) {
        return;
      }
      FileLedger ledger = world.fileLedger();
      RandomGenerator content = world.filesRandom();
      List<String> earlier = List.copyOf(ledger.uploadsOf(e.deviceId()).keySet());
      String path;
      byte[] bytes;
      String collection;
      if (!earlier.isEmpty() && content.nextInt(3) == 0) {
        path = earlier.get(content.nextInt(earlier.size()));
        List<FileLedger.Version> vs = ledger.uploadsOf(e.deviceId()).get(path);
        FileLedger.Version last = vs.get(vs.size() - 1);
        bytes = FileContent.edit(content, last.content());
        collection = FileLedger.collection(last);
      } else {
        path = ledger.nextUploadPath(e.deviceId());
        bytes =
            FileContent.first(
                content,
                content.nextInt(4) == 0
                    ? content.nextInt(256 << 10, 1 << 20)
                    : content.nextInt(2 << 10, 256 << 10));
        collection = content.nextInt(8) == 0 ? FileScenario.FORBIDDEN : FileScenario.UPLOADS;
      }
      FileLedger.Version v = ledger.upload(e.deviceId(), path, collection, bytes);
      e.queueUpload(v, collection);
      world.stats().add("files.uploadsQueued", 1);
    }
  }
}
