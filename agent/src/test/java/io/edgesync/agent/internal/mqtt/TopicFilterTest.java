package io.edgesync.agent.internal.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Topic filters as MQTT 3.1.1/5 §4.7 define them, including the spec's own examples. */
class TopicFilterTest {
  @ParameterizedTest(name = "{0} ~ {1} = {2}")
  @CsvSource({
    "sport/tennis/player1/#, sport/tennis/player1, true",
    "sport/tennis/player1/#, sport/tennis/player1/ranking, true",
    "sport/tennis/player1/#, sport/tennis/player1/score/wimbledon, true",
    "sport/#, sport, true",
    "#, any/thing/at/all, true",
    "sport/tennis/+, sport/tennis/player1, true",
    "sport/tennis/+, sport/tennis/player1/ranking, false",
    "sport/+, sport, false",
    "sport/+, sport/, true",
    "+/+, /finance, true",
    "/+, /finance, true",
    "+, /finance, false",
    "+/tennis/#, sport/tennis/x, true",
    "a/b, a/b, true",
    "a/b, a/bc, false",
    "a/b, a, false",
    "a, a/b, false",
    "#, $SYS/monitor, false",
    "+/monitor, $SYS/monitor, false",
    "$SYS/#, $SYS/monitor, true",
  })
  void matches_asTheSpecSays(String filter, String topic, boolean expected) {
    assertThat(TopicFilter.matches(filter, topic)).isEqualTo(expected);
  }

  @Test
  void invalidFilters_nameTheirProblem() {
    assertThat(TopicFilter.problem("sport/tennis#")).contains("'#' must be a whole level");
    assertThat(TopicFilter.problem("sport/#/ranking")).contains("the last one");
    assertThat(TopicFilter.problem("sport+")).contains("'+' must be a whole level");
    assertThat(TopicFilter.problem("")).isEqualTo("empty");
    assertThat(TopicFilter.problem("sport/+/player1/#")).isNull();
  }

  @Test
  void topicNames_mayNotHoldWildcards() {
    assertThat(TopicFilter.nameProblem("a/+/b")).contains("wildcards");
    assertThat(TopicFilter.nameProblem("a/#")).contains("wildcards");
    assertThat(TopicFilter.nameProblem("a/b")).isNull();
  }

  @Test
  void couldMatch_decidesWhichDocumentAndCommandTreesAFilterReaches() {
    String docs = "edgesync/docs/device/config/";
    assertThat(Subscriptions.couldMatch("edgesync/docs/device/config/rate", docs)).isTrue();
    assertThat(Subscriptions.couldMatch("edgesync/docs/+/config/+", docs)).isTrue();
    assertThat(Subscriptions.couldMatch("edgesync/#", docs)).isTrue();
    assertThat(Subscriptions.couldMatch("#", docs)).isTrue();
    assertThat(Subscriptions.couldMatch("edgesync/docs/fleet/#", docs)).isFalse();
    assertThat(Subscriptions.couldMatch("edgesync/docs/device/config/rate/x", docs)).isFalse();
    String commands = "edgesync/commands/";
    assertThat(Subscriptions.couldMatch("edgesync/commands/+", commands)).isTrue();
    assertThat(Subscriptions.couldMatch("edgesync/commands/+/result", commands)).isFalse();
  }
}
