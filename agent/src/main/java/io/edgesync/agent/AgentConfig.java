package io.edgesync.agent;

import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.support.ConfigException;
import io.edgesync.support.ConfigNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Everything an agent needs, loaded from YAML. The brief's {@code sync:} block loads as written;
 * {@code device}, {@code server}, {@code local_api}, {@code streams} and {@code queue} extend it.
 * See docs/configuration.md for every key and how the brief's keys map onto behaviour.
 *
 * @param dataDir where the outbox file lives (the brief's {@code offline.local_storage_path})
 * @param streamPriorities declared streams; lower number = more important (sent first, dropped
 *     last)
 * @param undeclaredStreamPriority priority of streams appended to without being declared
 * @param offlineBuffering false refuses appends while not connected ({@code offline.enabled})
 * @param onDemandEnabled whether {@code POST /v1/sync} and {@code syncNow()} are allowed
 * @param localApiPort 0 picks a free port; -1 disables the local HTTP API
 * @param dedupWindows per stream ({@code streams.<name>.dedup_window}): an append equal to one of
 *     the stream's last N records is not stored
 * @param storageKeyFile the at-rest keyring ({@code storage.encryption.key_file}); null = none (the
 *     environment variable {@code EDGESYNC_STORAGE_KEYS} wins over it when set)
 * @param localApiTokenFile the local API's bearer token ({@code local_api.token_file}, owner-only
 *     permissions); null = none: any local program may call the local API
 * @param files file transfers ({@code files:}): where installed files appear, the trusted release
 *     keys, the size limit and the upload collections
 * @param mqtt the local MQTT listener ({@code mqtt:}); {@link MqttSettings#disabled()} without one
 */
public record AgentConfig(
    String deviceId,
    URI serverUrl,
    Path dataDir,
    Map<String, Integer> streamPriorities,
    int undeclaredStreamPriority,
    boolean syncEnabled,
    boolean offlineBuffering,
    boolean onDemandEnabled,
    OutboxLimits outbox,
    SyncPolicy sync,
    int localApiPort,
    BriefSettings brief,
    DocumentSettings documents,
    Map<String, Integer> dedupWindows,
    TlsFiles tls,
    Path storageKeyFile,
    Path localApiTokenFile,
    FileSettings files,
    MqttSettings mqtt) {

  /**
   * Files on this device ({@code files:}, docs/files.md).
   *
   * @param dir where installed files appear ({@code files.dir}, default {@code <data_dir>/files})
   * @param trustedReleaseKeysFile PEM Ed25519 public keys a download must be signed by; null = none
   *     configured, and every download is refused ("no_trusted_keys")
   * @param maxFileBytes the largest file downloaded or uploaded
   * @param keepPrevious keep the version before the installed one (for rollback)
   * @param uploadPriorities the upload collections and their priorities (lower = sent first)
   */
  public record FileSettings(
      Path dir,
      Path trustedReleaseKeysFile,
      long maxFileBytes,
      boolean keepPrevious,
      Map<String, Integer> uploadPriorities) {
    /** The default {@code max_file_bytes}: 4 GiB. */
    public static final long DEFAULT_MAX_FILE_BYTES = 4L << 30;

    /** The upload collection when {@code files.uploads} names none, and its priority. */
    public static final String DEFAULT_UPLOAD_COLLECTION = "uploads";

    public static final int DEFAULT_UPLOAD_PRIORITY = 10;

    /**
     * Files installed in {@code dir}, trusting the release keys in {@code trustedReleaseKeysFile},
     * with every other setting at its default (as a {@code files:} section naming only those two).
     */
    public static FileSettings defaults(Path dir, Path trustedReleaseKeysFile) {
      return new FileSettings(
          dir,
          trustedReleaseKeysFile,
          DEFAULT_MAX_FILE_BYTES,
          true,
          Map.of(DEFAULT_UPLOAD_COLLECTION, DEFAULT_UPLOAD_PRIORITY));
    }
  }

  /**
   * Mutual TLS for a {@code wss://} server ({@code tls:}): this device's certificate and private
   * key (PEM; the key PKCS#8 or SEC1) and the CA certificate(s) the server's certificate must chain
   * to. Null on a config without a {@code tls} section.
   *
   * @param enrollmentTokenFile a one-time enrollment token (null: none): while {@code certFile} or
   *     {@code keyFile} does not exist, the agent makes its key pair and enrolls with it before it
   *     connects (docs/security.md, "Enrollment")
   */
  public record TlsFiles(Path certFile, Path keyFile, Path caFile, Path enrollmentTokenFile) {
    /** Files made beforehand (no enrollment). */
    public TlsFiles(Path certFile, Path keyFile, Path caFile) {
      this(certFile, keyFile, caFile, null);
    }

    /** Whether the agent must enroll before it can connect: no certificate or key yet. */
    public boolean needsEnrollment() {
      return !java.nio.file.Files.isRegularFile(certFile)
          || !java.nio.file.Files.isRegularFile(keyFile);
    }
  }

  /**
   * Documents on this device.
   *
   * @param collections declared collections ({@code documents.collections} and the brief's {@code
   *     cloud_to_edge.data_types} except {@code commands}); writes to others are refused
   */
  public record DocumentSettings(
      java.util.Set<String> collections, int maxDocumentBytes, long maxClockDriftMs) {}

  /** The brief's keys that later features act on, kept validated and visible in status. */
  public record BriefSettings(
      List<String> cloudToEdgeDataTypes,
      String edgeToCloudConflictResolution,
      String cloudToEdgeConflictResolution,
      String conflictStrategy,
      String mergeFunction,
      boolean autoResolve,
      boolean flagForReview,
      String compression,
      boolean deltaSync,
      boolean deduplication,
      boolean adaptiveSync,
      long minBandwidthKbps,
      List<String> onDemandTriggerTypes) {}

  /** A minimal config for tests and the demo: one device, default policies. */
  public static AgentConfig simple(String deviceId, URI serverUrl, Path dataDir) {
    return fromYaml(
        "device: {id: \""
            + deviceId
            + "\"}\nserver: {url: \""
            + serverUrl
            + "\"}\n"
            + "sync: {offline: {local_storage_path: \""
            + dataDir.toString().replace("\\", "/")
            + "\"}}\nlocal_api: {port: -1}\n");
  }

  /**
   * Reads a config file.
   *
   * @throws InvalidConfigException naming the key, the bad value and what is allowed
   */
  public static AgentConfig load(Path file) {
    return read(() -> AgentConfigReader.from(ConfigNode.load(file)));
  }

  /**
   * Reads a config from YAML text.
   *
   * @throws InvalidConfigException naming the key, the bad value and what is allowed
   */
  public static AgentConfig fromYaml(String yaml) {
    return read(() -> AgentConfigReader.from(ConfigNode.parse(yaml)));
  }

  /** The shared config reader's errors as this API's exception, with the same message. */
  private static AgentConfig read(Supplier<AgentConfig> reader) {
    try {
      return reader.get();
    } catch (ConfigException e) {
      throw new InvalidConfigException(e.path(), e.getMessage(), e);
    }
  }

  public AgentConfig withSync(SyncPolicy policy) {
    return with(c -> c.sync = policy);
  }

  public AgentConfig withOutbox(OutboxLimits limits) {
    return with(c -> c.outbox = limits);
  }

  public AgentConfig withLocalApiPort(int port) {
    return with(c -> c.localApiPort = port);
  }

  public AgentConfig withStreams(Map<String, Integer> priorities) {
    return with(c -> c.streamPriorities = priorities);
  }

  /** This config with {@code local_api.token_file} set to {@code tokenFile} (null = none). */
  public AgentConfig withLocalApiTokenFile(Path tokenFile) {
    return with(c -> c.localApiTokenFile = tokenFile);
  }

  /** This config with {@code storage.encryption.key_file} set to {@code keyFile} (null = none). */
  public AgentConfig withStorageKeyFile(Path keyFile) {
    return with(c -> c.storageKeyFile = keyFile);
  }

  /** This config with {@code files:} replaced. */
  public AgentConfig withFiles(FileSettings settings) {
    return with(c -> c.files = settings);
  }

  /** This config with {@code mqtt:} replaced. */
  public AgentConfig withMqtt(MqttSettings settings) {
    return with(c -> c.mqtt = settings);
  }

  /** A copy with {@code change} made to it (and checked by the canonical constructor). */
  private AgentConfig with(java.util.function.Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The settings of a config while a copy of it is changed: the one place that lists them all. */
  private static final class Copy {
    String deviceId;
    URI serverUrl;
    Path dataDir;
    Map<String, Integer> streamPriorities;
    int undeclaredStreamPriority;
    boolean syncEnabled;
    boolean offlineBuffering;
    boolean onDemandEnabled;
    OutboxLimits outbox;
    SyncPolicy sync;
    int localApiPort;
    BriefSettings brief;
    DocumentSettings documents;
    Map<String, Integer> dedupWindows;
    TlsFiles tls;
    Path storageKeyFile;
    Path localApiTokenFile;
    FileSettings files;
    MqttSettings mqtt;

    Copy(AgentConfig a) {
      deviceId = a.deviceId;
      serverUrl = a.serverUrl;
      dataDir = a.dataDir;
      streamPriorities = a.streamPriorities;
      undeclaredStreamPriority = a.undeclaredStreamPriority;
      syncEnabled = a.syncEnabled;
      offlineBuffering = a.offlineBuffering;
      onDemandEnabled = a.onDemandEnabled;
      outbox = a.outbox;
      sync = a.sync;
      localApiPort = a.localApiPort;
      brief = a.brief;
      documents = a.documents;
      dedupWindows = a.dedupWindows;
      tls = a.tls;
      storageKeyFile = a.storageKeyFile;
      localApiTokenFile = a.localApiTokenFile;
      files = a.files;
      mqtt = a.mqtt;
    }

    AgentConfig build() {
      return new AgentConfig(
          deviceId,
          serverUrl,
          dataDir,
          streamPriorities,
          undeclaredStreamPriority,
          syncEnabled,
          offlineBuffering,
          onDemandEnabled,
          outbox,
          sync,
          localApiPort,
          brief,
          documents,
          dedupWindows,
          tls,
          storageKeyFile,
          localApiTokenFile,
          files,
          mqtt);
    }
  }
}
