package io.edgesync.cli;

import io.edgesync.server.ApiKeys;
import io.edgesync.server.SqliteCloudStore;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code edgesync keys create|list|revoke}: the REST API's keys, kept in the server's store and
 * changed here offline, on its data directory (the server may be running: a revocation counts at
 * the key's next use).
 */
@Command(
    name = "keys",
    description = "Create, list and revoke the server's REST API keys (on its data directory).",
    subcommands = {
      KeysCommand.CreateKey.class,
      KeysCommand.ListKeys.class,
      KeysCommand.RevokeKey.class
    })
final class KeysCommand {
  @Option(
      names = "--data-dir",
      description = "The server's data directory (default: ${DEFAULT-VALUE})",
      defaultValue = "edgesync-data/cloud",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path dataDir;

  @Option(
      names = "--config",
      description = OfflineStore.CONFIG_HELP,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path config;

  /** Opens the server's store (creating it if it is new). */
  SqliteCloudStore open() throws SQLException {
    return OfflineStore.open(config, dataDir);
  }

  @Command(name = "create", description = "Make a key; it is printed this once, never stored.")
  static final class CreateKey implements Callable<Integer> {
    @ParentCommand KeysCommand parent;

    @Option(names = "--name", required = true, description = "Unique name: the audit's who")
    String name;

    @Option(names = "--role", required = true, description = "viewer | operator | admin")
    String role;

    @Option(
        names = "--group",
        description =
            "Limit the key to the devices of this group and its scope (repeatable; default: the"
                + " whole fleet)")
    java.util.List<String> groups = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      ApiKeys.Role r = ApiKeys.Role.parse(role);
      try (SqliteCloudStore store = parent.open()) {
        ApiKeys.Created c =
            store.apiKeys().create(name, r, groups, System.currentTimeMillis(), cliActor());
        System.out.println(c.secret());
        System.err.println(
            "edgesync: made API key '"
                + name
                + "' with role "
                + r.label()
                + (groups.isEmpty() ? "" : ", limited to groups " + groups)
                + "; it is shown only now (the server keeps its SHA-256)");
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List keys: name, role, created, revoked.")
  static final class ListKeys implements Callable<Integer> {
    @ParentCommand KeysCommand parent;

    @Override
    public Integer call() throws Exception {
      try (SqliteCloudStore store = parent.open()) {
        System.out.printf(
            "%-24s %-9s %-24s %-24s %s%n", "NAME", "ROLE", "CREATED", "REVOKED", "GROUPS");
        for (ApiKeys.Key k : store.apiKeys().list()) {
          System.out.printf(
              "%-24s %-9s %-24s %-24s %s%n",
              k.name(),
              k.role().label(),
              Instant.ofEpochMilli(k.createdAtMs()),
              k.revoked() ? Instant.ofEpochMilli(k.revokedAtMs()).toString() : "-",
              k.limited() ? String.join(",", k.groups()) : "(all)");
        }
      }
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke a key: refused from its next use on.")
  static final class RevokeKey implements Callable<Integer> {
    @ParentCommand KeysCommand parent;

    @Parameters(index = "0", description = "The key's name")
    String name;

    @Override
    public Integer call() throws Exception {
      try (SqliteCloudStore store = parent.open()) {
        ApiKeys.Key k = store.apiKeys().revoke(name, System.currentTimeMillis(), cliActor());
        System.out.println(
            "revoked API key '" + name + "' at " + Instant.ofEpochMilli(k.revokedAtMs()));
      }
      return 0;
    }
  }

  /** The audit's "who" of a change made offline with the CLI: the operating system's user. */
  static String cliActor() {
    return "cli:" + System.getProperty("user.name", "unknown");
  }
}
