package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.monitor.DatabaseState;
import io.incrementalloader.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Only a transaction that may land documents holds loading back (V013): a stranger's or an application's open
 * transaction delays nothing, a producer's still holds back what landed after it, and a transaction passed before
 * its first landing is refused, to be retried, so that nothing lands behind a position.
 */
class HorizonTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String STRANGER = "il_test_stranger";

    @BeforeAll
    static void roles() {
        db.execute("drop role if exists " + STRANGER + "; create role " + STRANGER + " login;"
                + " create table if not exists public.app_orders (id bigserial primary key, note text)");
    }

    @AfterAll
    static void dropRoles() {
        db.execute("drop table if exists public.app_orders; drop role if exists " + STRANGER);
    }

    private static Connection openTransaction(Connection connection, String firstStatement) throws SQLException {
        connection.setAutoCommit(false);
        try (Statement statement = connection.createStatement()) {
            statement.execute(firstStatement);
        }
        return connection;
    }

    @Test
    void a_role_without_any_grant_holding_an_xid_delays_no_document() throws Exception {
        ConnectionSettings asStranger = new ConnectionSettings(db.settings().url(), STRANGER, null, true);
        try (Connection stranger = openTransaction(asStranger.open(), "select pg_current_xact_id()");
             Connection application = openTransaction(db.connect(), "insert into public.app_orders (note) values ('nightly job')")) {
            db.landNumbered(500);
            db.execute("call load_pending(100)");
            assertEquals(500, db.count("select count(*) from test_mv.clients"), "loaded past both open transactions");
            assertEquals(0, db.count("select waiting from test_mv.pending()"));
            assertEquals(0.0, new DatabaseState(db.settings()).read().heldBackSeconds());
            stranger.rollback();
            application.rollback();
        }
    }

    @Test
    void a_producer_that_has_landed_still_holds_back_what_landed_after_it() throws Exception {
        try (Connection producer = openTransaction(db.connect(),
                "insert into fake_json_request (stage) values ('{\"application_id\": 1000}')")) {
            db.landNumbered(50);
            db.execute("call load_pending(100)");
            assertEquals(0, db.count("select count(*) from test_mv.clients"), "the slow producer's xid is older");
            assertEquals(50, db.count("select waiting from test_mv.pending()"));
            assertTrue(String.valueOf(db.queryOne("select test_mv.held_back_by()")).contains("pid"));
            Thread.sleep(1100);
            double heldBack = new DatabaseState(db.settings()).read().heldBackSeconds();
            assertTrue(heldBack >= 1, "the metric shows how long: " + heldBack);
            producer.commit();
        }
        db.execute("call load_pending(100)");
        assertEquals(51, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_transaction_passed_before_its_first_landing_is_refused_with_nothing_landed_and_its_retry_loads() throws Exception {
        try (Connection late = openTransaction(db.connect(), "insert into public.app_orders (note) values ('order 1')")) {
            db.landNumbered(20);
            db.execute("call load_pending(100)");
            assertEquals(20, db.count("select count(*) from test_mv.clients"), "the late transaction was passed");
            SQLException refused = assertThrows(SQLException.class, () -> {
                try (Statement statement = late.createStatement()) {
                    statement.execute("insert into fake_json_request (stage) values ('{\"application_id\": 999}')");
                }
            });
            assertEquals("40001", refused.getSQLState(), refused.getMessage());
            assertTrue(refused.getMessage().contains("nothing was landed"), refused.getMessage());
            late.rollback();
            // The retry, in a new transaction: the order and the document land together.
            try (Statement statement = late.createStatement()) {
                statement.execute("insert into public.app_orders (note) values ('order 1')");
                statement.execute("insert into fake_json_request (stage) values ('{\"application_id\": 999}')");
            }
            late.commit();
        }
        db.execute("call load_pending(100)");
        assertEquals(21, db.count("select count(*) from test_mv.clients"));
    }

    /**
     * Producers whose transactions write an application table before they land (so hold an xid the loader may pass),
     * with a pause between, retrying when refused, while two callers load without pause: every document committed is
     * loaded once, and none is left behind a position.
     */
    @Test
    void producers_that_write_before_landing_race_the_callers_and_lose_nothing() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger refusals = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(5);
        List<Future<?>> work = new ArrayList<>();
        try {
            for (int p = 0; p < 3; p++) {
                work.add(pool.submit(() -> {
                    try (Connection c = db.connect()) {
                        c.setAutoCommit(false);
                        while (running.get()) {
                            int id = next.getAndIncrement();
                            while (true) {
                                try (Statement s = c.createStatement();
                                     PreparedStatement land = c.prepareStatement(
                                             "insert into fake_json_request (stage) values (?::jsonb)")) {
                                    s.execute("insert into public.app_orders (note) values ('" + id + "')");
                                    Thread.sleep(id % 7);
                                    land.setString(1, "{\"application_id\": " + id + "}");
                                    land.execute();
                                    c.commit();
                                    break;
                                } catch (SQLException e) {
                                    c.rollback();
                                    if (!"40001".equals(e.getSQLState())) {
                                        throw e;
                                    }
                                    refusals.incrementAndGet();
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (int l = 0; l < 2; l++) {
                work.add(pool.submit(() -> {
                    try (Connection c = db.connect(); Statement s = c.createStatement()) {
                        while (running.get()) {
                            s.execute("call load_batch(20)");
                        }
                    }
                    return null;
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline && (refusals.get() < 5 || next.get() < 1500)) {
                Thread.sleep(100);
            }
        } finally {
            running.set(false);
            pool.shutdown();
        }
        for (Future<?> f : work) {
            f.get(30, TimeUnit.SECONDS);
        }
        db.execute("call load_pending(1000)");
        assertEquals(List.of(List.of(0L, 0L, 0L)), db.query("select"
                + " (select count(*) from fake_json_request r where not exists (select 1 from test_mv.clients c where c.client_id = r.id)),"
                + " (select count(*) from test_mv.clients c where not exists (select 1 from fake_json_request r where r.id = c.client_id)),"
                + " (select documents from test_mv.pending())"), "every landed document loaded, once, and nothing pending");
        assertEquals(db.count("select count(*) from fake_json_request"), db.count("select count(*) from public.app_orders"),
                "one document a committed order");
        assertTrue(refusals.get() > 0, "the race was run: some landing was refused");
    }

    /** admit_landing runs under its owner's rights in every producer's session, whatever search path it set. */
    @Test
    void a_producers_search_path_puts_nothing_of_its_own_under_the_admissions_rights() throws Exception {
        db.execute("create table public.planted_calls (name text);"
                + " create function public.planted_eq(a text, b text) returns boolean language plpgsql as $$ begin"
                + " insert into public.planted_calls values ('='); return a operator(pg_catalog.=) b; end $$;"
                + " create operator public.= (leftarg = text, rightarg = text, function = public.planted_eq);"
                + " create function public.planted_gt(a bigint, b bigint) returns boolean language plpgsql as $$ begin"
                + " insert into public.planted_calls values ('>'); return a operator(pg_catalog.>) b; end $$;"
                + " create operator public.> (leftarg = bigint, rightarg = bigint, function = public.planted_gt);"
                + " create function public.current_setting(n text, m boolean) returns text language plpgsql as $$ begin"
                + " insert into public.planted_calls values ('current_setting'); return pg_catalog.current_setting(n, m); end $$");
        try (Connection producer = db.connect(); Statement s = producer.createStatement()) {
            s.execute("set search_path = public, pg_catalog");
            s.execute("select 'a' = 'a', 2::bigint > 1::bigint");
            assertEquals(2, db.count("select count(*) from public.planted_calls"), "the plants work where nothing is pinned");
            db.execute("truncate public.planted_calls");
            producer.setAutoCommit(false);
            s.execute("insert into public.app_orders (note) values ('before landing')"); // an xid first: the fences are read
            s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 1}')");
            s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 2}')");
            producer.commit();
        } finally {
            db.execute("drop operator public.= (text, text); drop function public.planted_eq(text, text);"
                    + " drop operator public.> (bigint, bigint); drop function public.planted_gt(bigint, bigint);"
                    + " drop function public.current_setting(text, boolean)");
        }
        assertEquals(0, db.count("select count(*) from public.planted_calls"));
        db.execute("drop table public.planted_calls");
        assertEquals(2, db.count("select count(*) from fake_json_request"));
    }
}
