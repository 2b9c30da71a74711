package io.edgesync.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The CLI's logging is set up in code (no logback.xml, no XML parser loaded): WARN on stderr by
 * default, {@code EDGESYNC_LOG_LEVEL} raises or lowers it, and a {@code logback.configurationFile}
 * the user names wins.
 */
class LogConfiguratorTest {
  @AfterEach
  void clear() {
    System.clearProperty("EDGESYNC_LOG_LEVEL");
    System.clearProperty("logback.configurationFile");
  }

  @Test
  void logbackFindsIt_asAService() {
    assertThat(ServiceLoader.load(Configurator.class)).anyMatch(c -> c instanceof LogConfigurator);
  }

  @Test
  void defaultIsWarn_onStderr_withTheCliPattern() {
    LoggerContext ctx = new LoggerContext();

    assertThat(new LogConfigurator(() -> false).configure(ctx))
        .isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);

    Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    ConsoleAppender<?> stderr = (ConsoleAppender<?>) root.getAppender("STDERR");
    assertThat(stderr.getTarget()).isEqualTo("System.err");
    assertThat(stderr.isStarted()).isTrue();
    assertThat(((PatternLayoutEncoder) stderr.getEncoder()).getPattern())
        .isEqualTo("%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n");
  }

  @Test
  void edgesyncLogLevel_setsTheRootLevel() {
    System.setProperty("EDGESYNC_LOG_LEVEL", "DEBUG");
    LoggerContext ctx = new LoggerContext();

    new LogConfigurator(() -> false).configure(ctx);

    assertThat(ctx.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.DEBUG);
    assertThat(ctx.getLogger("org.eclipse.jetty").getLevel()).isEqualTo(Level.WARN);
  }

  @Test
  void anXmlConfigurationOnTheClasspath_wins() {
    // The tests' classpath holds logback-test.xml, as a user's could hold a logback.xml.
    LoggerContext ctx = new LoggerContext();

    assertThat(new LogConfigurator().configure(ctx))
        .isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
  }

  @Test
  void aConfigurationFileTheUserNames_wins() {
    System.setProperty("logback.configurationFile", "/etc/edgesync/logback.xml");
    LoggerContext ctx = new LoggerContext();

    assertThat(new LogConfigurator(() -> false).configure(ctx))
        .isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR")).isNull();
  }
}
