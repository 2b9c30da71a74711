package io.edgesync.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent library's public API is the package {@code io.edgesync.agent}, and only it: what it
 * shows must not lead users into the implementation. Stands in for a {@code module-info.java}
 * (docs/architecture.md, "Public API of the agent", says why there is none).
 */
class PublicApiSurfaceTest {
  private static final String PACKAGE = "io.edgesync.agent";

  /** Packages users must never meet in a public signature. */
  private static final List<String> FORBIDDEN_PREFIXES =
      List.of(PACKAGE + ".internal", "io.edgesync.engine", "io.edgesync.support");

  /**
   * Types of forbidden packages that the API shows on purpose. {@code SyncPolicy} is the engine's
   * tuning, which {@link AgentConfig} carries and tests and benchmarks adjust ({@code withSync}).
   */
  private static final Set<String> ALLOWED = Set.of("io.edgesync.engine.edge.SyncPolicy");

  /** The public top-level types; adding one is a decision (write it in docs/architecture.md). */
  private static final Set<String> PUBLIC_TYPES =
      Set.of(
          "AgentConfig",
          "AgentMetrics",
          "AgentStatus",
          "AppendResult",
          "CommandHandler",
          "Commands",
          "Document",
          "Documents",
          "DownloadStatus",
          "EdgeAgent",
          "EdgeSyncException",
          "FileListener",
          "Files",
          "InstalledFile",
          "InvalidConfigException",
          "MqttSettings",
          "OperationStatus",
          "OutboxLimits",
          "OverflowPolicy",
          "PendingCommand",
          "QueueFullException",
          "StorageKeyException",
          "UploadStatus");

  @Test
  void publicTypesOfTheApiPackage_areExactlyTheListedOnes() throws Exception {
    Set<String> topLevel = new TreeSet<>();
    for (Class<?> c : publicClasses()) {
      if (c.getEnclosingClass() == null) {
        topLevel.add(c.getSimpleName());
      }
    }
    assertThat(topLevel).containsExactlyInAnyOrderElementsOf(PUBLIC_TYPES);
  }

  @Test
  void publicSignatures_showNoInternalEngineOrSupportType() throws Exception {
    List<String> leaks = new ArrayList<>();
    for (Class<?> c : publicClasses()) {
      check(c.getName() + " extends", c.getGenericSuperclass(), leaks);
      for (Type t : c.getGenericInterfaces()) {
        check(c.getName() + " implements", t, leaks);
      }
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        checkExecutable(c, k, leaks);
      }
      for (Method m : c.getDeclaredMethods()) {
        checkExecutable(c, m, leaks);
        if (visible(m)) {
          check(where(c, m), m.getGenericReturnType(), leaks);
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (visible(f)) {
          check(where(c, f), f.getGenericType(), leaks);
        }
      }
    }
    assertThat(leaks).as("public signatures that show implementation types").isEmpty();
  }

  /** Public classes of the API package, nested ones included (whose enclosing ones are public). */
  private static List<Class<?>> publicClasses() throws Exception {
    Path root =
        Path.of(EdgeAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(root.resolve(PACKAGE.replace('.', '/')))) {
      for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
        String name = p.getFileName().toString().replace(".class", "");
        Class<?> c = Class.forName(PACKAGE + "." + name, false, EdgeAgent.class.getClassLoader());
        if (isPublicAllTheWayOut(c)) {
          out.add(c);
        }
      }
    }
    assertThat(out).as("classes found in " + root).isNotEmpty();
    return out;
  }

  private static boolean isPublicAllTheWayOut(Class<?> c) {
    for (Class<?> at = c; at != null; at = at.getEnclosingClass()) {
      if (!Modifier.isPublic(at.getModifiers()) || at.isAnonymousClass() || at.isLocalClass()) {
        return false;
      }
    }
    return true;
  }

  private static boolean visible(Member m) {
    int mod = m.getModifiers();
    return (Modifier.isPublic(mod) || Modifier.isProtected(mod)) && !m.isSynthetic();
  }

  private static String where(Class<?> c, Member m) {
    return c.getName() + "." + m.getName();
  }

  private static void checkExecutable(Class<?> c, Executable e, List<String> leaks) {
    if (!visible(e)) {
      return;
    }
    for (Type t : e.getGenericParameterTypes()) {
      check(where(c, e), t, leaks);
    }
    for (Type t : e.getGenericExceptionTypes()) {
      check(where(c, e), t, leaks);
    }
  }

  private static void check(String where, Type type, List<String> leaks) {
    if (type == null) {
      return;
    }
    if (type instanceof Class<?> c) {
      Class<?> base = c;
      while (base.isArray()) {
        base = base.getComponentType();
      }
      checkClass(where, base, leaks);
    } else if (type instanceof ParameterizedType p) {
      check(where, p.getRawType(), leaks);
      for (Type a : p.getActualTypeArguments()) {
        check(where, a, leaks);
      }
    } else if (type instanceof GenericArrayType g) {
      check(where, g.getGenericComponentType(), leaks);
    } else if (type instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        check(where, b, leaks);
      }
      for (Type b : w.getLowerBounds()) {
        check(where, b, leaks);
      }
    } else if (type instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        check(where, b, leaks);
      }
    }
  }

  private static void checkClass(String where, Class<?> c, List<String> leaks) {
    if (c.isPrimitive() || ALLOWED.contains(c.getName())) {
      return;
    }
    String pkg = c.getPackageName();
    for (String forbidden : FORBIDDEN_PREFIXES) {
      if (pkg.equals(forbidden) || pkg.startsWith(forbidden + ".")) {
        leaks.add(where + " shows " + c.getName());
      }
    }
    if (pkg.equals(PACKAGE) && !isPublicAllTheWayOut(c)) {
      leaks.add(where + " shows the non-public " + c.getName());
    }
  }
}
