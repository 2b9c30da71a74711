package io.edgesync.sim;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.DocumentStore;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * How to run seeds (not what happens in them: that comes from the seed alone).
 *
 * @param workDir where runs put their SQLite files (one directory per run, deleted afterwards)
 * @param traceTailLines how many of the last trace lines a failure report shows
 * @param echo prints every trace line as it happens (one seed, for debugging), or null
 * @param cloudStoreWrapper wraps the cloud's store, for tests that plant a bug and expect the
 *     checkers to catch it; identity otherwise
 * @param keepFiles keep each run's directory (to inspect the SQLite files)
 * @param documentStoreWrapper wraps the cloud's document store under the document authority (the
 *     checkers read the real one), for planted-bug tests; identity otherwise
 * @param commandStoreWrapper wraps the cloud's command store the sessions use, likewise
 * @param files run the files scenario ({@code --files}): the cloud publishes file versions to the
 *     devices and devices upload files, on top of everything a seed does without files (a seed's
 *     other choices are the same; its trace is not). Off by default, so that the recorded trace
 *     hashes of seeds without files stay as they are
 * @param plantedFileBug a bug planted in the files seeds' stores (tests); NONE otherwise
 * @param cloudNodes server nodes sharing the cloud store ({@link #withCloudNodes})
 */
public record SimOptions(
    Path workDir,
    int traceTailLines,
    PrintStream echo,
    UnaryOperator<CloudStore> cloudStoreWrapper,
    boolean keepFiles,
    UnaryOperator<DocumentStore> documentStoreWrapper,
    UnaryOperator<CommandStore> commandStoreWrapper,
    boolean files,
    PlantedFileBug plantedFileBug,
    int cloudNodes) {

  /** A bug planted in the files seeds' stores, for tests that expect the checkers to catch it. */
  public enum PlantedFileBug {
    NONE,
    /** The cloud serves one flipped byte in the first chunk of every version it rolls out. */
    CORRUPT_CHUNK_SENT,
    /** Devices take every offer, whatever their size limit says. */
    SIZE_LIMIT_IGNORED
  }

  /**
   * Defaults: files on {@code /dev/shm} when it exists (a memory file system makes fsync cheap; the
   * semantics the checks rely on are the same), else the temporary directory; 40 trace lines.
   */
  public static SimOptions defaults() {
    return new SimOptions(
        defaultWorkDir(),
        40,
        null,
        UnaryOperator.identity(),
        false,
        UnaryOperator.identity(),
        UnaryOperator.identity(),
        false,
        PlantedFileBug.NONE,
        1);
  }

  public SimOptions withEcho(PrintStream echo) {
    return edit(c -> c.echo = echo);
  }

  public SimOptions withCloudStoreWrapper(UnaryOperator<CloudStore> wrapper) {
    return edit(c -> c.cloudStoreWrapper = wrapper);
  }

  public SimOptions withDocumentStoreWrapper(UnaryOperator<DocumentStore> wrapper) {
    return edit(c -> c.documentStoreWrapper = wrapper);
  }

  public SimOptions withCommandStoreWrapper(UnaryOperator<CommandStore> wrapper) {
    return edit(c -> c.commandStoreWrapper = wrapper);
  }

  public SimOptions withWorkDir(Path dir) {
    return edit(c -> c.workDir = dir);
  }

  public SimOptions withKeepFiles(boolean keep) {
    return edit(c -> c.keepFiles = keep);
  }

  public SimOptions withFiles(boolean on) {
    return edit(c -> c.files = on);
  }

  public SimOptions withPlantedFileBug(PlantedFileBug bug) {
    return edit(c -> c.plantedFileBug = bug);
  }

  /**
   * With {@code nodes} cloud nodes sharing one store ({@code --nodes}): connections are spread over
   * the live nodes, the nemesis crashes one node at a time, and changes reach every node's sessions
   * as the cluster bus carries them. One node (the default) is the single server every seed's hash
   * was recorded with.
   */
  public SimOptions withCloudNodes(int nodes) {
    if (nodes < 1 || nodes > 16) {
      throw new IllegalArgumentException("cloud nodes must be 1..16, not " + nodes);
    }
    return edit(c -> c.cloudNodes = nodes);
  }

  static Path defaultWorkDir() {
    String configured = System.getProperty("sim.dir");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path shm = Path.of("/dev/shm");
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return shm.resolve("edgesync-sim-" + user);
    }
    return Path.of(System.getProperty("java.io.tmpdir")).resolve("edgesync-sim-" + user);
  }

  /** A copy with one option changed: every {@code with…} method is one line of it. */
  private SimOptions edit(java.util.function.Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The options being copied (a new option is added here, once). */
  private static final class Copy {
    private Path workDir;
    private int traceTailLines;
    private PrintStream echo;
    private UnaryOperator<CloudStore> cloudStoreWrapper;
    private boolean keepFiles;
    private UnaryOperator<DocumentStore> documentStoreWrapper;
    private UnaryOperator<CommandStore> commandStoreWrapper;
    private boolean files;
    private PlantedFileBug plantedFileBug;
    private int cloudNodes;

    Copy(SimOptions from) {
      workDir = from.workDir;
      traceTailLines = from.traceTailLines;
      echo = from.echo;
      cloudStoreWrapper = from.cloudStoreWrapper;
      keepFiles = from.keepFiles;
      documentStoreWrapper = from.documentStoreWrapper;
      commandStoreWrapper = from.commandStoreWrapper;
      files = from.files;
      plantedFileBug = from.plantedFileBug;
      cloudNodes = from.cloudNodes;
    }

    SimOptions build() {
      return new SimOptions(
          workDir,
          traceTailLines,
          echo,
          cloudStoreWrapper,
          keepFiles,
          documentStoreWrapper,
          commandStoreWrapper,
          files,
          plantedFileBug,
          cloudNodes);
    }
  }
}
