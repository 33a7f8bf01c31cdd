package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every PL/pgSQL routine of db/ passes plpgsql_check with no error and no warning. The extension comes from Debian
 * (postgresql-15-plpgsql-check), installed by .ci/run; outside CI, a server without it skips this test.
 */
class RoutineChecksTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void every_plpgsql_routine_passes_plpgsql_check_without_errors_or_warnings() {
        boolean available = db.count("select count(*) from pg_available_extensions where name = 'plpgsql_check'") == 1;
        if (System.getenv("CI") == null) {
            Assumptions.assumeTrue(available, "plpgsql_check is not installed on this server");
        }
        db.execute("create extension if not exists plpgsql_check");
        // Every PL/pgSQL routine of the loader's schemas, read from the catalog; a trigger function with a table it
        // serves and that trigger's transition tables, so that it is checked as it runs.
        List<List<Object>> routines = db.query("select p.oid::regprocedure::text, t.tgrelid::regclass::text,"
                + " t.tgoldtable, t.tgnewtable from pg_proc p"
                + " join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang"
                + " left join lateral (select g.tgrelid, g.tgoldtable, g.tgnewtable from pg_trigger g"
                + "  where g.tgfoid = p.oid and not g.tgisinternal"
                + "  order by (g.tgoldtable is null)::int + (g.tgnewtable is null)::int, g.tgname limit 1) t on true"
                + " where l.lanname = 'plpgsql' and n.nspname in ('public', 'test_mv') order by 1");
        List<Object> names = routines.stream().map(r -> r.get(0)).toList();
        assertTrue(names.containsAll(List.of("load_batch(integer)", "test_mv.write_batch(text,integer,bigint[])",
                "test_mv.admit_landing()", "test_mv.note_changed_documents()")), names::toString);
        for (List<Object> routine : routines) {
            String trigger = routine.get(1) == null ? "" : ", relid => '" + routine.get(1) + "'"
                    + (routine.get(2) == null ? "" : ", oldtable => '" + routine.get(2) + "'")
                    + (routine.get(3) == null ? "" : ", newtable => '" + routine.get(3) + "'");
            List<List<Object>> findings = db.query("select level, message, statement, query from plpgsql_check_function_tb('"
                    + routine.get(0) + "'" + trigger
                    + ", fatal_errors => false, extra_warnings => true, performance_warnings => true)");
            assertEquals(List.of(), findings, routine.get(0) + " has plpgsql_check findings");
        }
    }

    /**
     * A routine whose search_path is not pinned resolves names through its caller's, where anyone who can create in
     * a schema early in the path can plant a function that runs in its place. The routines that cannot be pinned (a SET
     * clause would stop the planner from inlining three of them (document_lane must be, to match its index), and forbids COMMIT in the procedures that commit
     * each batch) qualify every name instead; RolesAndPrivilegesTest proves that nothing planted is called.
     */
    @Test
    void every_routine_pins_its_search_path_but_those_that_qualify_every_name() {
        List<List<Object>> unpinned = db.query("select p.oid::regprocedure::text from pg_proc p"
                + " join pg_namespace n on n.oid = p.pronamespace"
                + " where n.nspname in ('public', 'test_mv')"
                + " and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%')"
                + " and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')"
                + " order by 1");
        assertEquals(List.of(List.of("load_pending(integer)"),
                List.of("prune_landing(interval,interval,interval,integer)"), List.of("reload_documents(bigint,bigint,integer)"),
                List.of("reprocess_rejected(text,bigint,bigint,timestamp with time zone,timestamp with time zone,integer,boolean)"),
                List.of("test_mv.address_rows(jsonb)"), List.of("test_mv.admit_landing()"),
                List.of("test_mv.document_lane(bigint)"), List.of("test_mv.document_md5(jsonb)"),
                List.of("test_mv.is_loadable(jsonb)"), List.of("test_mv.phone_rows(jsonb)"),
                List.of("test_mv.product_rows(jsonb)")), unpinned);
    }
}
