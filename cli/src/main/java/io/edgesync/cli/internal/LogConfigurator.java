package io.edgesync.cli.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The CLI's logging, set up in code rather than from a {@code logback.xml}: one line per event on
 * stderr at {@code EDGESYNC_LOG_LEVEL} (environment or system property; default WARN). Reading an
 * XML file costs logback's Joran and the JDK's XML parser, about 500 classes: some 4 MiB of the
 * agent's memory and 0.1–0.2 s of its start on a small device (docs/operations.md, "Small
 * devices"). {@code -Dlogback.configurationFile=<file>}, or a {@code logback.xml} or {@code
 * logback-test.xml} on the classpath, still wins: this configurator then steps aside. Found by
 * logback through {@code META-INF/services}.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n";

  private final java.util.function.BooleanSupplier xmlPresent;

  /** As logback makes it: steps aside for an XML configuration on the classpath. */
  public LogConfigurator() {
    this(LogConfigurator::xmlOnClasspath);
  }

  LogConfigurator(java.util.function.BooleanSupplier xmlPresent) {
    this.xmlPresent = xmlPresent;
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null || xmlPresent.getAsBoolean()) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(level(), Level.WARN));
    root.addAppender(stderr);
    context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
    context.getLogger("io.javalin").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** A logback-test.xml (the tests') or logback.xml someone put on the classpath is read. */
  private static boolean xmlOnClasspath() {
    ClassLoader cl = LogConfigurator.class.getClassLoader();
    return cl.getResource("logback-test.xml") != null || cl.getResource("logback.xml") != null;
  }

  private static String level() {
    String v = System.getProperty("EDGESYNC_LOG_LEVEL");
    return v != null ? v : System.getenv("EDGESYNC_LOG_LEVEL");
  }
}
