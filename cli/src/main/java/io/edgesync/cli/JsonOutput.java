package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Option;

/**
 * The {@code --json} option of the commands that print tables: with it they print the API's JSON
 * answer instead, one document per line, for scripts ({@code jq}). A mixin; not thread safe.
 */
final class JsonOutput {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--json",
      description =
          "Print the API's JSON answer (one line per answer, for scripts) instead of text")
  boolean json;

  /** Prints {@code body} on one line if {@code --json} was given; returns whether it did. */
  boolean printed(JsonNode body) {
    if (!json) {
      return false;
    }
    try {
      System.out.println(JSON.writeValueAsString(body));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return true;
  }
}
