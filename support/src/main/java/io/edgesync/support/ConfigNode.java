package io.edgesync.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A position in a YAML configuration tree that reads typed values strictly: a wrong type, a value
 * out of range or an unknown key fails with a {@link ConfigException} naming the dotted path, the
 * bad value and what is allowed. Immutable.
 */
public final class ConfigNode {
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final String path;
  private final JsonNode node;

  private ConfigNode(String path, JsonNode node) {
    this.path = path;
    this.node = node;
  }

  public static ConfigNode parse(String yaml) {
    try {
      JsonNode root = YAML.readTree(yaml);
      return of(root == null ? MissingNode.getInstance() : root);
    } catch (IOException e) {
      throw new ConfigException("(document)", "not valid YAML: " + e.getMessage());
    }
  }

  public static ConfigNode load(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new ConfigException("(file)", "cannot read " + file + ": " + e);
    }
  }

  private static ConfigNode of(JsonNode root) {
    if (!root.isMissingNode() && !root.isNull() && !root.isObject()) {
      throw new ConfigException("(document)", "expected a mapping at the top level");
    }
    return new ConfigNode("", root);
  }

  public String path() {
    return path.isEmpty() ? "(root)" : path;
  }

  public boolean isPresent() {
    return !node.isMissingNode() && !node.isNull();
  }

  /** Whether {@code key} is written with the value null ({@code key: null} or {@code key: ~}). */
  public boolean isExplicitNull(String key) {
    return node.path(key).isNull();
  }

  /** A child mapping (missing is allowed and reads as empty). */
  public ConfigNode section(String key) {
    JsonNode child = node.path(key);
    String childPath = join(key);
    if (!child.isMissingNode() && !child.isNull() && !child.isObject()) {
      throw new ConfigException(childPath, "expected a mapping, got " + describe(child));
    }
    return new ConfigNode(childPath, child);
  }

  /** Fails on any key not in {@code allowed}. */
  public ConfigNode allowOnly(String... allowed) {
    Set<String> ok = Set.of(allowed);
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!ok.contains(key)) {
        throw new ConfigException(
            join(key), "unknown key; allowed here: " + String.join(", ", new TreeSet<>(ok)));
      }
    }
    return this;
  }

  /** The keys of this mapping in document order, each as a child node. */
  public Map<String, ConfigNode> children() {
    Map<String, ConfigNode> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (!v.isNull() && !v.isObject()) {
        throw new ConfigException(join(e.getKey()), "expected a mapping, got " + describe(v));
      }
      out.put(e.getKey(), new ConfigNode(join(e.getKey()), v));
    }
    return out;
  }

  /**
   * A list of mappings ({@code key: [{...}, {...}]}), each named {@code key[i]}; missing = empty.
   */
  public List<ConfigNode> sections(String key) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return List.of();
    }
    if (!v.isArray()) {
      throw new ConfigException(join(key), "expected a list of mappings, got " + describe(v));
    }
    List<ConfigNode> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      String itemPath = join(key) + "[" + i + "]";
      if (!v.get(i).isObject()) {
        throw new ConfigException(itemPath, "expected a mapping, got " + describe(v.get(i)));
      }
      out.add(new ConfigNode(itemPath, v.get(i)));
    }
    return out;
  }

  public boolean bool(String key, boolean fallback) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw new ConfigException(join(key), "expected true or false, got " + describe(v));
    }
    return v.booleanValue();
  }

  public long integer(String key, long fallback, long min, long max, String unit) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return fallback;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new ConfigException(
          join(key),
          "expected an integer (" + unit + ") in " + min + ".." + max + ", got " + describe(v));
    }
    long value = v.longValue();
    if (value < min || value > max) {
      throw new ConfigException(
          join(key), value + " is out of range; allowed: " + min + ".." + max + " (" + unit + ")");
    }
    return value;
  }

  public String string(String key, String fallback) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return fallback;
    }
    if (!v.isTextual()) {
      throw new ConfigException(join(key), "expected a string, got " + describe(v));
    }
    return v.textValue();
  }

  /**
   * A mapping of scalars ({@code key: {a: x, b: 1}}) in document order, each value as its text
   * (numbers and booleans too); missing = empty.
   */
  public Map<String, String> stringMap(String key) {
    ConfigNode m = section(key);
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = m.node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (!v.isValueNode() || v.isNull()) {
        throw new ConfigException(
            m.join(e.getKey()), "expected a string or number, got " + describe(v));
      }
      out.put(e.getKey(), v.asText());
    }
    return out;
  }

  /** A string that must be one of {@code allowed}. */
  public String choice(String key, String fallback, String... allowed) {
    String value = string(key, fallback);
    if (value != null && !Arrays.asList(allowed).contains(value)) {
      throw new ConfigException(
          join(key), "'" + value + "' is not allowed; allowed: " + String.join(", ", allowed));
    }
    return value;
  }

  /** A list of strings, each one of {@code allowed} unless {@code allowed} is empty. */
  public List<String> strings(String key, List<String> fallback, String... allowed) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return fallback;
    }
    if (!v.isArray()) {
      throw new ConfigException(join(key), "expected a list of strings, got " + describe(v));
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      JsonNode item = v.get(i);
      String itemPath = join(key) + "[" + i + "]";
      if (!item.isTextual()) {
        throw new ConfigException(itemPath, "expected a string, got " + describe(item));
      }
      if (allowed.length > 0 && !Arrays.asList(allowed).contains(item.textValue())) {
        throw new ConfigException(
            itemPath,
            "'" + item.textValue() + "' is not allowed; allowed: " + String.join(", ", allowed));
      }
      out.add(item.textValue());
    }
    return out;
  }

  /** Fails with a message naming this node's {@code key}. */
  public ConfigException error(String key, String message) {
    return new ConfigException(join(key), message);
  }

  private static boolean absent(JsonNode v) {
    return v.isMissingNode() || v.isNull();
  }

  private String join(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private static String describe(JsonNode v) {
    if (v.isTextual()) {
      return "\"" + v.textValue() + "\" (a string)";
    }
    if (v.isObject()) {
      return "a mapping";
    }
    if (v.isArray()) {
      return "a list";
    }
    return v.toString() + " (" + v.getNodeType().name().toLowerCase() + ")";
  }
}
