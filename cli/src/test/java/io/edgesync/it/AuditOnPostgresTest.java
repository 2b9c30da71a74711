package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.server.AuditKeys;
import io.edgesync.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edgesync audit verify|export --config server.yaml} on a server whose store is PostgreSQL
 * (a real embedded one): the chain that offline {@code keys} commands appended verifies, an export
 * of it verifies, and a row changed behind the store's back is named. A database without the schema
 * is reported and left as it was (the audit commands read only; they do not migrate).
 */
class AuditOnPostgresTest {
  @TempDir Path dir;
  @RegisterExtension final TestDatabase db = new TestDatabase();

  @Test
  void auditVerifyAndExport_readTheChainInPostgres_andNameARecordChangedBehindTheirBack()
      throws Exception {
    Path data = dir.resolve("data");
    AuditKeys.loadOrCreate(data);
    String config = config(data).toString();
    CliRun.stdout("keys", "create", "--config", config, "--name", "ops", "--role", "admin");
    CliRun.stdout("keys", "create", "--config", config, "--name", "dash", "--role", "viewer");
    CliRun.stdout("keys", "revoke", "--config", config, "dash");

    assertThat(CliRun.exit(0, "audit", "verify", "--config", config)).startsWith("OK: 3 records");
    Path export = dir.resolve("audit.jsonl");
    CliRun.exit(0, "audit", "export", "--config", config, "--out", export.toString());
    String publicKey = data.resolve(AuditKeys.PUBLIC_FILE).toString();
    assertThat(
            CliRun.exit(
                0, "audit", "verify", "--file", export.toString(), "--public-key", publicKey))
        .startsWith("OK: 3 records");

    try (Connection c = TestPostgres.connect(db.name());
        Statement st = c.createStatement()) {
      st.execute("UPDATE audit_log SET target = 'ops' WHERE seq = 2");
    }
    assertThat(CliRun.exit(1, "audit", "verify", "--config", config))
        .contains("FAILED at record 2: its hash does not match its content");
  }

  @Test
  void auditVerify_onADatabaseWithoutTheSchema_saysSo_andCreatesNothing() throws Exception {
    Path data = dir.resolve("data");
    AuditKeys.loadOrCreate(data);

    String printed = CliRun.exit(2, "audit", "verify", "--config", config(data).toString());

    assertThat(printed).contains(db.jdbcUrl() + " has no audit log").doesNotContain("OK");
    try (Connection c = TestPostgres.connect(db.name());
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")) {
      rs.next();
      assertThat(rs.getLong(1)).as("tables made in the database").isZero();
    }
  }

  /** A server config whose store is this test's database. */
  private Path config(Path data) throws Exception {
    Path file = dir.resolve("server.yaml");
    Files.writeString(
        file,
        "server:\n"
            + "  data_dir: '"
            + data
            + "'\n"
            + "  store:\n"
            + "    type: postgres\n"
            + "    url: "
            + db.jdbcUrl()
            + "\n"
            + "    user: "
            + TestPostgres.USER
            + "\n");
    return file;
  }
}
