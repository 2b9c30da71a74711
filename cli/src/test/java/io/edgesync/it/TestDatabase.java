package io.edgesync.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.testing.TestPostgres;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test's own database of the shared embedded PostgreSQL ({@link TestPostgres}), registered with
 * {@code @RegisterExtension}: made before each test (the test is skipped, with the reason, where
 * PostgreSQL cannot start) and dropped after it, once the test's own {@code @AfterEach} methods
 * have stopped what used it.
 */
final class TestDatabase implements BeforeEachCallback, AfterEachCallback {
  private String name;

  @Override
  public void beforeEach(ExtensionContext context) {
    assumeTrue(
        TestPostgres.available(),
        () -> "skipped: no embedded PostgreSQL here: " + TestPostgres.unavailableReason());
    name = TestPostgres.newDatabase();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (name != null) {
      TestPostgres.dropDatabase(name);
      name = null;
    }
  }

  /** The database's name. */
  String name() {
    return name;
  }

  /** Its JDBC URL. */
  String jdbcUrl() {
    return TestPostgres.jdbcUrl(name);
  }

  /** The {@code store:} line of a server section (indented by two) that opens this database. */
  String storeYaml() {
    return "  store: {type: postgres, url: \""
        + jdbcUrl()
        + "\", user: "
        + TestPostgres.USER
        + "}\n";
  }
}
