package io.edgesync.server;

import io.edgesync.support.ConfigNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How long the cloud keeps each stream's records ({@code server.retention}, docs/configuration.md):
 * a policy per stream name or glob, and a default. Without any, records are kept forever. {@link
 * StreamExpiry} applies them every {@code intervalMs}.
 *
 * <p>A stream's policy: its exact name if listed, else the first glob in the config's order that
 * matches it ({@code *} any run of characters, dots included; {@code ?} one character), else the
 * default. A listed entry inherits each limit it does not set from the default; 0 means no limit
 * (so a stream can opt out of the default's). Immutable.
 *
 * @param intervalMs how often expiry runs
 * @param defaults the policy of streams no entry names
 * @param streams entries by stream name or glob, in the config's order
 */
public record RetentionRules(long intervalMs, Policy defaults, Map<String, Policy> streams) {

  /** The default interval between expiry runs: a minute. */
  public static final long DEFAULT_INTERVAL_MS = 60_000;

  static final long MIN_INTERVAL_MS = 1_000;
  static final long MAX_INTERVAL_MS = 86_400_000;
  static final long MS_PER_DAY = 86_400_000;

  /** What a glob may contain: the characters of stream names and the wildcards. */
  private static final Pattern GLOB = Pattern.compile("[A-Za-z0-9_.*?-]{1,64}");

  /** No retention: everything kept forever (the default, as before retention existed). */
  public static final RetentionRules KEEP_FOREVER =
      new RetentionRules(DEFAULT_INTERVAL_MS, Policy.NONE, Map.of());

  /**
   * One stream's limits; 0 = no limit.
   *
   * @param maxAgeMs batches committed longer ago than this expire
   * @param maxBytes while a device's stream stores more than this (bytes of its batches as stored),
   *     its oldest batches expire
   */
  public record Policy(long maxAgeMs, long maxBytes) {
    public static final Policy NONE = new Policy(0, 0);

    public Policy {
      if (maxAgeMs < 0 || maxBytes < 0) {
        throw new IllegalArgumentException(
            "retention limits must be >= 0 (0: no limit), were max_age_ms="
                + maxAgeMs
                + " max_bytes="
                + maxBytes);
      }
    }

    /** Whether this policy never expires anything. */
    public boolean keepsForever() {
      return maxAgeMs == 0 && maxBytes == 0;
    }
  }

  public RetentionRules {
    Objects.requireNonNull(defaults, "defaults");
    if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
      throw new IllegalArgumentException(
          "retention interval_ms must be in "
              + MIN_INTERVAL_MS
              + ".."
              + MAX_INTERVAL_MS
              + " ms, not "
              + intervalMs);
    }
    for (String glob : streams.keySet()) {
      if (!GLOB.matcher(glob).matches()) {
        throw new IllegalArgumentException(
            "retention stream '" + glob + "' is not a stream name or glob of " + GLOB.pattern());
      }
    }
    streams = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(streams));
  }

  /** Whether no stream can ever expire (the scheduler then need not run). */
  public boolean keepsEverythingForever() {
    return defaults.keepsForever() && streams.values().stream().allMatch(Policy::keepsForever);
  }

  /** The policy of {@code stream}: its name, else the first matching glob, else the default. */
  public Policy policyFor(String stream) {
    Policy exact = streams.get(stream);
    if (exact != null) {
      return exact;
    }
    for (Map.Entry<String, Policy> e : streams.entrySet()) {
      if (globMatches(e.getKey(), stream)) {
        return e.getValue();
      }
    }
    return defaults;
  }

  /** {@code *}: any run of characters (dots too); {@code ?}: one character; the rest literal. */
  static boolean globMatches(String glob, String name) {
    StringBuilder regex = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return name.matches(regex.toString());
  }

  /** {@code server.retention}; absent: {@link #KEEP_FOREVER}. */
  static RetentionRules from(ConfigNode node) {
    if (!node.isPresent()) {
      return KEEP_FOREVER;
    }
    node.allowOnly("interval_ms", "default", "streams");
    long intervalMs =
        node.integer("interval_ms", DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS, "ms");
    Policy defaults = policy(node.section("default"), Policy.NONE);
    Map<String, Policy> streams = new LinkedHashMap<>();
    ConfigNode listed = node.section("streams");
    for (Map.Entry<String, ConfigNode> e : listed.children().entrySet()) {
      if (!GLOB.matcher(e.getKey()).matches()) {
        throw listed.error(
            e.getKey(), "not a stream name or glob; allowed: " + GLOB.pattern() + " (* and ?)");
      }
      streams.put(e.getKey(), policy(e.getValue(), defaults));
    }
    return new RetentionRules(intervalMs, defaults, streams);
  }

  /** One policy: a limit it does not set is {@code inherited}'s. */
  private static Policy policy(ConfigNode node, Policy inherited) {
    node.allowOnly("max_age_ms", "max_age_days", "max_bytes");
    boolean ms = node.integer("max_age_ms", -1, 0, Long.MAX_VALUE, "ms") >= 0;
    boolean days = node.integer("max_age_days", -1, 0, 365_000, "days") >= 0;
    if (ms && days) {
      throw node.error("max_age_days", "give max_age_ms or max_age_days, not both");
    }
    long maxAgeMs = inherited.maxAgeMs();
    if (ms) {
      maxAgeMs = node.integer("max_age_ms", 0, 0, Long.MAX_VALUE, "ms");
    } else if (days) {
      maxAgeMs = node.integer("max_age_days", 0, 0, 365_000, "days") * MS_PER_DAY;
    }
    long maxBytes =
        node.integer("max_bytes", inherited.maxBytes(), 0, Long.MAX_VALUE, "bytes (0: no limit)");
    return new Policy(maxAgeMs, maxBytes);
  }
}
