package io.edgesync.server;

import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.engine.dict.DictionaryRules;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictResolver;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DeviceWrites;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.server.alerts.AlertSettings;
import io.edgesync.server.export.KafkaExportSettings;
import io.edgesync.server.files.FileSettings;
import io.edgesync.support.ConfigNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The cloud server's settings, from YAML:
 *
 * <pre>
 * server:
 *   host: 0.0.0.0
 *   port: 8470              # 0 picks a free port
 *   data_dir: ./edgesync-cloud
 *   unknown_devices: register   # register | reject
 *   max_frame_bytes: 4194304
 *   max_records_per_batch: 8192
 *   heartbeat_interval_ms: 15000 # told to devices in Welcome
 *   heartbeat_timeout_ms: 45000  # close a session silent this long; default 3 intervals
 *   codecs: [all]           # batch codecs accepted: all, or some of gzip, lzma, zstd, ...
 *   compact_batches: true   # accept the compact RecordBatch envelope
 *   dictionaries:           # trained zstd dictionaries per stream (docs/codecs.md)
 *     enabled: true
 *     sample_bytes: 1048576
 *     dictionary_bytes: 16384
 *     min_interval_ms: 3600000
 *     keep_per_stream: 3
 *     max_streams: 256
 *   tls:                    # mutual TLS: wss:// and https:// on the same port (docs/security.md)
 *     cert_file: server.pem
 *     key_file: server.key
 *     client_ca_file: ca.pem  # device certificates must chain to it
 *     crl_file: crl.pem       # optional; re-read when it changes
 *     ca_dir: ./ca            # optional: the built-in CA's directory (edgesync ca init)
 *     device_cert_days: 30    # lifetime of device certificates signed by ca_dir (1..397)
 *   admission:              # pacing of session admission (AdmissionControl)
 *     max_pending_sessions: 512
 *     max_sessions_per_s: 500
 *     max_retry_after_ms: 60000
 *     max_pending_handshakes: 256  # TLS handshakes in progress (HandshakeLimit)
 *     handshake_timeout_ms: 10000
 *     max_hello_wait_ms: 5000      # a Hello that waited longer for a thread: RETRY_LATER
 *   files:                  # published versions, rollouts, uploads (docs/files.md)
 *     dir: ./edgesync-cloud/files    # default: data_dir/files
 *     release_key_file: release.key  # optional: the server signs what is published
 *     release_public_keys_file: release.pub  # optional: publishers' signatures must verify
 *     upload_collections: [uploads]
 *     max_upload_bytes: 4294967296
 *     max_file_bytes: 17179869184
 *     upload_quota_bytes_per_device: 68719476736
 *   store:                  # where the state lives (StoreSettings); default: SQLite in data_dir
 *     type: postgres
 *     url: jdbc:postgresql://db:5432/edgesync
 *     user: edgesync
 *     password_file: /etc/edgesync/pg-password
 *     pool: {max_connections: 10, connect_timeout_ms: 10000}
 *   retention:              # stream records kept in the cloud (RetentionRules); absent: forever
 *     interval_ms: 60000
 *     default: {max_age_days: 30, max_bytes: 0}     # 0: no limit; or max_age_ms
 *     streams: {logs: {max_age_days: 7}, "sensors.*": {max_bytes: 10737418240}}
 *   cluster:                # several nodes on one PostgreSQL (docs/operations.md)
 *     node_id: cloud-1      # unique per node; default: host name and process id
 *     lease_ms: 15000       # one-node work moves within this time after its node died
 *   alerts:                 # built-in alert rules and their webhook (AlertSettings)
 *     device_offline_ms: 3600000
 *     webhook: {url: "https://hooks.example.com/edgesync", secret_file: hook.secret}
 * export:                   # optional: committed stream records to Kafka, exactly once
 *   kafka: {bootstrap_servers: "host:9092", ...}   # see KafkaExportSettings
 * </pre>
 */
public record ServerConfig(
    String host,
    int port,
    Path dataDir,
    ServerPolicy policy,
    DocumentRules documents,
    DictionaryRules dictionaries,
    TlsFiles tls,
    AdmissionLimits admission,
    FileSettings files,
    StoreSettings store,
    ClusterSettings cluster,
    RetentionRules retention,
    KafkaExportSettings export,
    int maxDeviceSeries,
    AlertSettings alerts) {

  /**
   * The default of {@code server.metrics.max_device_series}: devices with series of their own in
   * the Prometheus metrics (FleetStatus; fleet aggregates are always published).
   */
  public static final int DEFAULT_MAX_DEVICE_SERIES = 500;

  /**
   * Mutual TLS ({@code server.tls}): the server's certificate and key, the CA device certificates
   * must chain to, the CA's revocation list (null: none), and the built-in CA's directory (null:
   * none; with it the server can sign device certificates itself, for enrollment and renewal, and
   * knows the CA's index of issued certificates). A config without it serves plain ws:// and
   * http://.
   */
  public record TlsFiles(
      Path certFile,
      Path keyFile,
      Path clientCaFile,
      Path crlFile,
      Path caDir,
      int deviceCertDays) {

    /** How long the device certificates the server signs (enrollment, renewal) are valid. */
    public static final int DEFAULT_DEVICE_CERT_DAYS = 30;

    /** The most {@code device_cert_days} may be: about 13 months, as for public TLS. */
    public static final int MAX_DEVICE_CERT_DAYS = 397;

    public TlsFiles {
      if (deviceCertDays < 1 || deviceCertDays > MAX_DEVICE_CERT_DAYS) {
        throw new IllegalArgumentException(
            "server.tls.device_cert_days must be 1.."
                + MAX_DEVICE_CERT_DAYS
                + ", was "
                + deviceCertDays);
      }
    }

    /** With the built-in CA's directory and device certificates of the default lifetime. */
    public TlsFiles(Path certFile, Path keyFile, Path clientCaFile, Path crlFile, Path caDir) {
      this(certFile, keyFile, clientCaFile, crlFile, caDir, DEFAULT_DEVICE_CERT_DAYS);
    }

    /** Files of a CA the server does not hold the key of (one's own PKI). */
    public TlsFiles(Path certFile, Path keyFile, Path clientCaFile, Path crlFile) {
      this(certFile, keyFile, clientCaFile, crlFile, null);
    }
  }

  /**
   * The one way to make a config: every setting given. Start from {@link #defaults} or {@link
   * #load} and change settings with the {@code with…} copies, so that none is dropped on the way.
   */
  public ServerConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(documents, "documents");
    Objects.requireNonNull(dictionaries, "dictionaries");
    Objects.requireNonNull(admission, "admission");
    Objects.requireNonNull(files, "files");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(retention, "retention");
    Objects.requireNonNull(alerts, "alerts");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException(
          "port must be in 0..65535 (0 picks a free one), not " + port);
    }
  }

  /** Collections a server without a documents section serves (the brief's cloud_to_edge types). */
  static final List<String> DEFAULT_COLLECTIONS = List.of("config", "firmware");

  /**
   * Every setting at its default: all interfaces, port 8470, the default policy, the brief's
   * cloud_to_edge collections and dictionary rules.
   */
  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig(
        "0.0.0.0",
        8470,
        dataDir,
        ServerPolicy.defaults(),
        defaultDocuments(),
        DictionaryRules.defaults(),
        null,
        AdmissionLimits.defaults(),
        FileSettings.defaults(),
        StoreSettings.sqlite(),
        ClusterSettings.defaults(),
        RetentionRules.KEEP_FOREVER,
        null,
        DEFAULT_MAX_DEVICE_SERIES,
        AlertSettings.defaults());
  }

  static DocumentRules defaultDocuments() {
    Map<String, ConflictPolicy> c = new LinkedHashMap<>();
    for (String name : DEFAULT_COLLECTIONS) {
      c.put(name, ConflictPolicy.of(ConflictStrategy.CLOUD_WINS));
    }
    return DocumentRules.of(c);
  }

  /**
   * Listening on {@code newHost} (an interface's address, or 0.0.0.0 for all) and {@code newPort}.
   */
  public ServerConfig withAddress(String newHost, int newPort) {
    return edit(
        c -> {
          c.host = newHost;
          c.port = newPort;
        });
  }

  public ServerConfig withPort(int newPort) {
    return edit(c -> c.port = newPort);
  }

  public ServerConfig withPolicy(ServerPolicy newPolicy) {
    return edit(c -> c.policy = newPolicy);
  }

  public ServerConfig withDocuments(DocumentRules rules) {
    return edit(c -> c.documents = rules);
  }

  public ServerConfig withDictionaries(DictionaryRules rules) {
    return edit(c -> c.dictionaries = rules);
  }

  public ServerConfig withDataDir(Path dir) {
    return edit(c -> c.dataDir = dir);
  }

  /** Serving mutual TLS with these files (null: plain). */
  public ServerConfig withTls(TlsFiles tlsFiles) {
    return edit(c -> c.tls = tlsFiles);
  }

  /** Admitting sessions at this pace ({@link AdmissionControl}). */
  public ServerConfig withAdmission(AdmissionLimits limits) {
    return edit(c -> c.admission = limits);
  }

  /** Keeping the cloud's state in this store ({@code server.store}). */
  public ServerConfig withStore(StoreSettings newStore) {
    return edit(c -> c.store = newStore);
  }

  /** With these file settings ({@code server.files}). */
  public ServerConfig withFiles(FileSettings newFiles) {
    return edit(c -> c.files = newFiles);
  }

  /** With these {@code server.cluster} settings. */
  public ServerConfig withCluster(ClusterSettings newCluster) {
    return edit(c -> c.cluster = newCluster);
  }

  /** With these {@code server.retention} settings. */
  public ServerConfig withRetention(RetentionRules newRetention) {
    return edit(c -> c.retention = newRetention);
  }

  /** With at most this many devices' own series in the metrics ({@code server.metrics}). */
  public ServerConfig withMaxDeviceSeries(int max) {
    return edit(c -> c.maxDeviceSeries = max);
  }

  /** Exporting stream records to Kafka with these settings ({@code export.kafka}; null: not). */
  public ServerConfig withExport(KafkaExportSettings newExport) {
    return edit(c -> c.export = newExport);
  }

  /** With these {@code server.alerts} settings. */
  public ServerConfig withAlerts(AlertSettings newAlerts) {
    return edit(c -> c.alerts = newAlerts);
  }

  public static ServerConfig load(Path file) {
    return from(ConfigNode.load(file));
  }

  public static ServerConfig fromYaml(String yaml) {
    return from(ConfigNode.parse(yaml));
  }

  private static ServerConfig from(ConfigNode root) {
    root.allowOnly("server", "documents", "sync", "export");
    ConfigNode s =
        root.section("server")
            .allowOnly(
                "host",
                "port",
                "data_dir",
                "unknown_devices",
                "max_frame_bytes",
                "max_records_per_batch",
                "heartbeat_interval_ms",
                "heartbeat_timeout_ms",
                "codecs",
                "compact_batches",
                "dictionaries",
                "tls",
                "admission",
                "files",
                "store",
                "cluster",
                "retention",
                "export",
                "metrics",
                "alerts");
    ServerPolicy d = ServerPolicy.defaults();
    java.util.Set<io.edgesync.protocol.codec.Codec> codecs;
    try {
      codecs =
          io.edgesync.protocol.codec.CodecCapabilities.parseNames(
              s.strings("codecs", List.of("all")));
    } catch (IllegalArgumentException e) {
      throw s.error("codecs", e.getMessage());
    }
    boolean compact = s.bool("compact_batches", true);
    long hbInterval =
        s.integer("heartbeat_interval_ms", d.heartbeatIntervalMs(), 100, 3_600_000, "ms");
    long hbTimeout = heartbeatTimeoutMs(s, hbInterval);
    ServerPolicy policy =
        new ServerPolicy(
            d.serverVersion(),
            s.choice("unknown_devices", "register", "register", "reject").equals("register"),
            (int)
                s.integer(
                    "max_frame_bytes",
                    d.maxFrameBytes(),
                    1024,
                    ProtocolLimits.MAX_FRAME_BYTES_CEILING,
                    "bytes"),
            (int)
                s.integer("max_records_per_batch", d.maxRecordsPerBatch(), 1, 1_000_000, "records"),
            hbInterval,
            hbTimeout,
            codecs,
            compact);
    return new ServerConfig(
        s.string("host", "0.0.0.0"),
        (int) s.integer("port", 8470, 0, 65_535, "TCP port"),
        Path.of(s.string("data_dir", "./edgesync-cloud")),
        policy,
        documents(root.section("documents"), root.section("sync")),
        dictionaries(s.section("dictionaries")),
        tls(s.section("tls")),
        admission(s.section("admission")),
        files(s.section("files")),
        StoreSettings.from(s.section("store")),
        cluster(s.section("cluster")),
        RetentionRules.from(s.section("retention")),
        KafkaExportSettings.from(root.section("export")),
        (int)
            s.section("metrics")
                .allowOnly("max_device_series")
                .integer("max_device_series", DEFAULT_MAX_DEVICE_SERIES, 0, 100_000, "devices"),
        AlertSettings.from(s.section("alerts")));
  }

  /** {@code server.cluster}: every key optional. */
  private static ClusterSettings cluster(ConfigNode node) {
    ConfigNode c = node.allowOnly("node_id", "lease_ms");
    String id = c.string("node_id", null);
    if (id != null && !ClusterSettings.NODE_ID.matcher(id).matches()) {
      throw c.error(
          "node_id",
          "'" + id + "' is not a valid node id; allowed: " + ClusterSettings.NODE_ID.pattern());
    }
    return new ClusterSettings(
        id == null ? ClusterSettings.defaultNodeId() : id,
        c.integer("lease_ms", ClusterSettings.DEFAULT_LEASE_MS, 300, 3_600_000, "ms"));
  }

  /**
   * {@code server.files}: every key optional. A release key or public keys file that is named must
   * exist.
   */
  private static FileSettings files(ConfigNode node) {
    ConfigNode f =
        node.allowOnly(
            "dir",
            "release_key_file",
            "release_public_keys_file",
            "upload_collections",
            "max_upload_bytes",
            "max_file_bytes",
            "upload_quota_bytes_per_device");
    FileSettings d = FileSettings.defaults();
    String dir = f.string("dir", null);
    List<String> collections = f.strings("upload_collections", d.uploadCollections());
    for (String c : collections) {
      if (!ProtocolLimits.isValidCollection(c)) {
        throw f.error(
            "upload_collections",
            "'"
                + c
                + "' is not a valid collection name; allowed: "
                + ProtocolLimits.COLLECTION_PATTERN);
      }
    }
    long max = io.edgesync.engine.files.FileLimits.MAX_FILE_BYTES;
    return new FileSettings(
        dir == null ? null : Path.of(dir),
        existingFile(f, "release_key_file"),
        existingFile(f, "release_public_keys_file"),
        collections,
        f.integer("max_upload_bytes", d.maxUploadBytes(), 1, max, "bytes"),
        f.integer("max_file_bytes", d.maxFileBytes(), 1, max, "bytes"),
        f.integer(
            "upload_quota_bytes_per_device",
            d.uploadQuotaBytesPerDevice(),
            1,
            Long.MAX_VALUE,
            "bytes"));
  }

  private static Path existingFile(ConfigNode node, String key) {
    String value = node.string(key, null);
    if (value == null) {
      return null;
    }
    if (!java.nio.file.Files.isRegularFile(Path.of(value))) {
      throw node.error(key, "no such file: '" + value + "'");
    }
    return Path.of(value);
  }

  /** {@code server.admission}: every key optional, each at its default when absent. */
  private static AdmissionLimits admission(ConfigNode node) {
    ConfigNode a =
        node.allowOnly(
            "max_pending_sessions",
            "max_sessions_per_s",
            "max_retry_after_ms",
            "max_pending_handshakes",
            "handshake_timeout_ms",
            "max_hello_wait_ms");
    AdmissionLimits d = AdmissionLimits.defaults();
    return new AdmissionLimits(
        (int) a.integer("max_pending_sessions", d.maxPendingSessions(), 1, 100_000, "sessions"),
        (int)
            a.integer(
                "max_sessions_per_s", d.maxSessionsPerS(), 1, 1_000_000, "sessions per second"),
        a.integer("max_retry_after_ms", d.maxRetryAfterMs(), 100, 300_000, "ms"),
        (int)
            a.integer("max_pending_handshakes", d.maxPendingHandshakes(), 1, 100_000, "handshakes"),
        a.integer("handshake_timeout_ms", d.handshakeTimeoutMs(), 100, 300_000, "ms"),
        a.integer("max_hello_wait_ms", d.maxHelloWaitMs(), 100, 300_000, "ms"));
  }

  /**
   * {@code server.tls}: the server's certificate and key required; the client CA required unless
   * {@code ca_dir} names the built-in CA's directory, whose {@code ca.pem} and {@code crl.pem} are
   * then the defaults of {@code client_ca_file} and {@code crl_file}. Each named file must exist.
   */
  private static TlsFiles tls(ConfigNode node) {
    if (!node.isPresent()) {
      return null;
    }
    ConfigNode tls =
        node.allowOnly(
            "cert_file", "key_file", "client_ca_file", "crl_file", "ca_dir", "device_cert_days");
    Path cert = file(tls, "cert_file", true);
    Path key = file(tls, "key_file", true);
    Path caDir = caDir(tls);
    Path clientCa = file(tls, "client_ca_file", caDir == null);
    Path crl = file(tls, "crl_file", false);
    if (caDir != null) {
      clientCa = clientCa != null ? clientCa : caDir.resolve(CertificateAuthority.CERT_FILE);
      crl = crl != null ? crl : caDir.resolve(CertificateAuthority.CRL_FILE);
    }
    int certDays =
        (int)
            tls.integer(
                "device_cert_days",
                TlsFiles.DEFAULT_DEVICE_CERT_DAYS,
                1,
                TlsFiles.MAX_DEVICE_CERT_DAYS,
                "days a device certificate signed by ca_dir (enrollment, renewal) is valid");
    return new TlsFiles(cert, key, clientCa, crl, caDir, certDays);
  }

  private static Path caDir(ConfigNode tls) {
    String value = tls.string("ca_dir", null);
    if (value == null) {
      return null;
    }
    Path dir = Path.of(value);
    for (String name :
        List.of(
            CertificateAuthority.CERT_FILE,
            CertificateAuthority.KEY_FILE,
            CertificateAuthority.CRL_FILE)) {
      if (!java.nio.file.Files.isRegularFile(dir.resolve(name))) {
        throw tls.error(
            "ca_dir",
            "'"
                + value
                + "' is not a CA directory: no "
                + name
                + " in it (make one with"
                + " edgesync ca init)");
      }
    }
    return dir;
  }

  private static Path file(ConfigNode node, String key, boolean required) {
    String value = node.string(key, null);
    if (value == null) {
      if (required) {
        throw node.error(key, "required with server.tls (a PEM file)");
      }
      return null;
    }
    if (!java.nio.file.Files.isRegularFile(Path.of(value))) {
      throw node.error(key, "no such file: '" + value + "'");
    }
    return Path.of(value);
  }

  /** {@code heartbeat_timeout_ms}: by default 3 intervals, and never below 2. */
  private static long heartbeatTimeoutMs(ConfigNode s, long intervalMs) {
    long timeoutMs =
        s.integer(
            "heartbeat_timeout_ms",
            ServerPolicy.DEFAULT_HEARTBEAT_TIMEOUT_INTERVALS * intervalMs,
            200,
            86_400_000,
            "ms");
    if (timeoutMs < 2 * intervalMs) {
      throw s.error(
          "heartbeat_timeout_ms",
          timeoutMs
              + " must be at least twice heartbeat_interval_ms ("
              + intervalMs
              + "): a device heartbeats once an interval, and one late heartbeat must not end its"
              + " session");
    }
    return timeoutMs;
  }

  private static DictionaryRules dictionaries(ConfigNode d) {
    d.allowOnly(
        "enabled",
        "sample_bytes",
        "dictionary_bytes",
        "min_interval_ms",
        "keep_per_stream",
        "max_streams");
    DictionaryRules def = DictionaryRules.defaults();
    return new DictionaryRules(
        d.bool("enabled", def.enabled()),
        d.integer(
            "sample_bytes", def.sampleBytes(), 1024, DictionaryRules.MAX_SAMPLE_BYTES, "bytes"),
        (int)
            d.integer(
                "dictionary_bytes",
                def.dictionaryBytes(),
                256,
                io.edgesync.protocol.codec.Dictionary.MAX_DICTIONARY_BYTES,
                "bytes"),
        d.integer("min_interval_ms", def.minIntervalMs(), 0, 86_400_000L * 365, "ms"),
        (int) d.integer("keep_per_stream", def.keepPerStream(), 2, 64, "dictionaries"),
        (int) d.integer("max_streams", def.maxStreams(), 1, 1 << 20, "streams"));
  }

  private static final String[] STRATEGIES = {
    "last_write_wins", "cloud_wins", "edge_wins", "merge", "manual", "custom"
  };

  /**
   * Per collection: its own {@code strategy} > the brief's direction {@code conflict_resolution}
   * for collections in that direction's {@code data_types} > the brief's {@code
   * conflict_resolution.strategy} > last_write_wins.
   */
  private static DocumentRules documents(ConfigNode docs, ConfigNode sync) {
    docs.allowOnly(
        "collections",
        "max_document_bytes",
        "max_clock_drift_ms",
        "on_clock_drift",
        "device_writable");
    // The agent's brief block may be shared with the server: only these parts act here.
    sync.allowOnly(
        "directions", "strategies", "conflict_resolution", "offline", "bandwidth", "monitoring");
    ConflictDefaults defaults = ConflictDefaults.from(sync.section("conflict_resolution"));
    Map<String, String> strategyOf = directionStrategies(sync, defaults.strategy());
    Map<String, ConfigNode> declared = declaredCollections(docs);
    for (String name : declared.keySet()) {
      strategyOf.putIfAbsent(name, defaults.strategy());
    }
    Map<String, ConflictPolicy> policies = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : strategyOf.entrySet()) {
      policies.put(
          e.getKey(), policy(e.getKey(), e.getValue(), declared.get(e.getKey()), defaults));
    }
    return new DocumentRules(
        policies,
        (int)
            docs.integer(
                "max_document_bytes",
                ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES,
                2,
                ProtocolLimits.MAX_DOCUMENT_BYTES_CEILING,
                "bytes"),
        docs.integer("max_clock_drift_ms", 300_000, 1, 86_400_000L * 365, "ms"),
        docs.choice("on_clock_drift", "flag", "flag", "reject").equals("reject"),
        // The brief's bandwidth.deduplication: a device's change to the value a document already
        // holds makes no new version (the rest of the bandwidth block is for agents).
        sync.section("bandwidth").bool("deduplication", true),
        deviceWritable(docs, policies.keySet()));
  }

  /**
   * {@code documents.device_writable}: the shared documents devices may write, as {@code
   * <scope>/<collection>} patterns over declared collections; none by default.
   */
  private static DeviceWrites deviceWritable(ConfigNode docs, java.util.Set<String> declared) {
    List<String> patterns = docs.strings("device_writable", List.of());
    DeviceWrites writes;
    try {
      writes = new DeviceWrites(patterns);
    } catch (IllegalArgumentException e) {
      throw docs.error("device_writable", e.getMessage());
    }
    for (String p : patterns) {
      String collection = p.substring(p.lastIndexOf('/') + 1);
      if (!collection.equals("*") && !declared.contains(collection)) {
        throw docs.error(
            "device_writable",
            "'"
                + p
                + "' names collection '"
                + collection
                + "', which is not declared; declared: "
                + new java.util.TreeSet<>(declared));
      }
    }
    return writes;
  }

  /** The brief's {@code sync.conflict_resolution}: what a collection without its own takes. */
  private record ConflictDefaults(
      ConfigNode at,
      String strategy,
      String mergeFunction,
      boolean autoResolve,
      boolean flagForReview,
      String resolver) {
    static ConflictDefaults from(ConfigNode cr) {
      cr.allowOnly("strategy", "merge_function", "auto_resolve", "flag_for_review", "resolver");
      return new ConflictDefaults(
          cr,
          cr.choice("strategy", "last_write_wins", STRATEGIES),
          cr.choice("merge_function", "timestamp", "timestamp", "custom", "manual"),
          cr.bool("auto_resolve", true),
          cr.bool("flag_for_review", false),
          cr.string("resolver", null));
    }
  }

  /**
   * The collections of the brief's {@code cloud_to_edge} direction (its {@code data_types}, or the
   * default collections without that direction), with its strategy; {@code commands} is no
   * collection of documents.
   */
  private static Map<String, String> directionStrategies(ConfigNode sync, String defaultStrategy) {
    ConfigNode directions = sync.section("directions").allowOnly("edge_to_cloud", "cloud_to_edge");
    ConfigNode down =
        directions
            .section("cloud_to_edge")
            .allowOnly("enabled", "data_types", "priority", "conflict_resolution");
    directions
        .section("edge_to_cloud")
        .allowOnly("enabled", "data_types", "priority", "conflict_resolution")
        .choice("conflict_resolution", defaultStrategy, STRATEGIES);
    String downStrategy = down.choice("conflict_resolution", "cloud_wins", STRATEGIES);
    List<String> downTypes =
        down.isPresent() ? down.strings("data_types", List.of()) : DEFAULT_COLLECTIONS;
    Map<String, String> strategyOf = new LinkedHashMap<>();
    for (String t : downTypes) {
      if (!t.equals("commands")) {
        strategyOf.put(t, downStrategy);
      }
    }
    return strategyOf;
  }

  /** {@code documents.collections}, each name checked. */
  private static Map<String, ConfigNode> declaredCollections(ConfigNode docs) {
    Map<String, ConfigNode> declared = docs.section("collections").children();
    for (String name : declared.keySet()) {
      if (!ProtocolLimits.isValidCollection(name)) {
        throw docs.error(
            "collections",
            "'"
                + name
                + "' is not a valid collection name; allowed: "
                + ProtocolLimits.COLLECTION_PATTERN);
      }
    }
    return declared;
  }

  /**
   * One collection's policy: its own settings ({@code c}, null if it has no entry) over {@code
   * strategy} and the defaults.
   */
  private static ConflictPolicy policy(
      String name, String strategy, ConfigNode c, ConflictDefaults defaults) {
    String onField = defaults.mergeFunction().equals("manual") ? "flag" : "hlc";
    String resolver = defaults.resolver();
    if (c != null) {
      c.allowOnly("strategy", "on_field_conflict", "resolver");
      strategy = c.choice("strategy", strategy, STRATEGIES);
      onField = c.choice("on_field_conflict", onField, "hlc", "flag");
      resolver = c.string("resolver", resolver);
    }
    if (strategy.equals("merge") && defaults.mergeFunction().equals("custom")) {
      strategy = "custom";
    }
    ConflictResolver instance = null;
    if (strategy.equals("custom")) {
      ConfigNode at = c != null ? c : defaults.at();
      if (resolver == null) {
        throw at.error(
            "resolver",
            "collection '"
                + name
                + "' uses the custom strategy: name a class implementing"
                + " io.edgesync.engine.docs.ConflictResolver");
      }
      instance = loadResolver(at, resolver);
    }
    return new ConflictPolicy(
        ConflictStrategy.fromConfig(strategy),
        onField.equals("flag"),
        defaults.autoResolve(),
        defaults.flagForReview(),
        instance,
        resolver);
  }

  private static ConflictResolver loadResolver(ConfigNode at, String className) {
    try {
      Object o = Class.forName(className).getDeclaredConstructor().newInstance();
      if (o instanceof ConflictResolver r) {
        return r;
      }
      throw at.error(
          "resolver",
          "'" + className + "' does not implement io.edgesync.engine.docs.ConflictResolver");
    } catch (ReflectiveOperationException | LinkageError e) {
      throw at.error("resolver", "cannot load '" + className + "': " + e);
    }
  }

  /** A copy with one part changed: every {@code with…} method is one line of it. */
  private ServerConfig edit(java.util.function.Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The components of a config being copied (a new component is added here, once). */
  private static final class Copy {
    private String host;
    private int port;
    private Path dataDir;
    private ServerPolicy policy;
    private DocumentRules documents;
    private DictionaryRules dictionaries;
    private TlsFiles tls;
    private AdmissionLimits admission;
    private FileSettings files;
    private StoreSettings store;
    private ClusterSettings cluster;
    private RetentionRules retention;
    private KafkaExportSettings export;
    private int maxDeviceSeries;
    private AlertSettings alerts;

    Copy(ServerConfig from) {
      host = from.host;
      port = from.port;
      dataDir = from.dataDir;
      policy = from.policy;
      documents = from.documents;
      dictionaries = from.dictionaries;
      tls = from.tls;
      admission = from.admission;
      files = from.files;
      store = from.store;
      cluster = from.cluster;
      retention = from.retention;
      export = from.export;
      maxDeviceSeries = from.maxDeviceSeries;
      alerts = from.alerts;
    }

    ServerConfig build() {
      return new ServerConfig(
          host,
          port,
          dataDir,
          policy,
          documents,
          dictionaries,
          tls,
          admission,
          files,
          store,
          cluster,
          retention,
          export,
          maxDeviceSeries,
          alerts);
    }
  }
}
