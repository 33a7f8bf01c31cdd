package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.EnvironmentFailure;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The safety net's circuit breaker: when documents keep failing for one reason that is not theirs, loading stops with
 * that reason after the limit, the rest stays pending, and the run fails; validation rejections never count.
 */
class CircuitBreakerTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @AfterEach
    void dropTheWrongConstraint() {
        db.execute("alter table test_mv.clients drop constraint if exists ck_wrong");
    }

    /** A DBA's wrong CHECK constraint: no client can be written. */
    private static void wrongConstraint() {
        db.execute("alter table test_mv.clients add constraint ck_wrong check (application_id < 0) not valid");
    }

    @Test
    void a_wrong_constraint_stops_loading_after_the_limit_fails_the_run_and_leaves_the_rest_pending() {
        db.execute("update test_mv.load_control set safety_net_limit = 5");
        db.landNumbered(60);
        wrongConstraint();
        Cli.Result load = Cli.run("load", "--url", db.settings().url());
        assertEquals(EnvironmentFailure.EXIT_CODE, load.exitCode(), load::toString);
        assertTrue(load.err().contains("circuit breaker opened") && load.err().contains("SQLSTATE IL001")
                && load.err().contains("ck_wrong"), load::toString);
        assertEquals(List.of(List.of(5L, 55L, 1L)), db.query("select (select count(*) from test_mv.load_errors),"
                + " (select documents from test_mv.pending()), (select count(*) from test_mv.failed_runs where sqlstate = 'IL001')"));

        // A DBA's CALL meets the same breaker, and rejects nothing more.
        try (Connection dba = db.connect(); Statement s = dba.createStatement()) {
            SQLException refused = assertThrows(SQLException.class, () -> s.execute("call load_batch(100)"));
            assertEquals("IL001", refused.getSQLState());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        assertEquals(5, db.count("select count(*) from test_mv.load_errors"));

        // Fixed: the rest loads, and the five come back.
        dropTheWrongConstraint();
        assertEquals(0, Cli.run("load", "--url", db.settings().url()).exitCode());
        db.execute("call reprocess_rejected()");
        assertEquals(List.of(List.of(60L, 0L)), db.query("select (select count(*) from test_mv.clients),"
                + " (select count(*) from test_mv.load_errors)"));
    }

    @Test
    void a_document_that_loads_starts_the_count_again_and_validation_rejections_never_count() {
        db.execute("update test_mv.load_control set safety_net_limit = 3");
        // Only odd application ids pass the constraint. Forty documents of one lane, so that one order decides, land
        // failing and passing by turns, then thirty malformed ones: never three of the safety net's in a row.
        db.execute("alter table test_mv.clients add constraint ck_wrong check (application_id % 2 = 1) not valid");
        db.execute("insert into fake_json_request (stage) select d from ("
                + " select d, row_number() over (partition by (d ->> 'application_id')::integer % 2"
                + "   order by (d ->> 'application_id')::integer) as turn, (d ->> 'application_id')::integer % 2 as odd"
                + " from (select jsonb_build_object('application_id', g, 'phones', jsonb_build_array("
                + "   jsonb_build_object('mobile', g::text))) as d from generate_series(1, 3000) g) c"
                + " where test_mv.document_lane(jsonb_hash_extended(d, 0)) = 0) x"
                + " where turn <= 20 order by turn, odd");
        assertEquals(40, db.count("select count(*) from fake_json_request"));
        db.land(java.util.Collections.nCopies(30, "{\"application_id\": \"not a number\"}").toArray(String[]::new));
        Cli.Result load = Cli.run("load", "--url", db.settings().url(), "--batch-size", "4");
        assertEquals(0, load.exitCode(), load::toString);
        assertEquals(List.of(List.of(20L, 20L, 30L, 0L)), db.query("select (select count(*) from test_mv.clients),"
                + " (select count(*) from test_mv.load_errors where reason like 'the batch failed%'),"
                + " (select count(*) from test_mv.load_errors where reason like 'application_id%'),"
                + " (select documents from test_mv.pending())"));
    }
}
