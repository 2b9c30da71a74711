package io.edgesync.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class TestPostgresTest {
  @Test
  void eachTestDatabaseIsFreshAndSeparate() throws Exception {
    assumeTrue(
        TestPostgres.available(), () -> "no PostgreSQL: " + TestPostgres.unavailableReason());
    String a = TestPostgres.newDatabase();
    String b = TestPostgres.newDatabase();
    assertThat(a).isNotEqualTo(b);
    try (Connection c = TestPostgres.connect(a);
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE t (x BIGINT)");
      st.execute("INSERT INTO t VALUES (42)");
    }
    try (Connection c = TestPostgres.connect(b);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM information_schema.tables WHERE table_name='t'")) {
      rs.next();
      assertThat(rs.getLong(1)).isZero();
    }
  }
}
