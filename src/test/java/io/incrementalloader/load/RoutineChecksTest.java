package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        List<List<Object>> routines = db.query("select p.oid::regprocedure::text from pg_proc p"
                + " join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang"
                + " where l.lanname = 'plpgsql' and n.nspname in ('public', 'test_mv') order by 1");
        assertEquals(List.of(List.of("load_batch(integer)"), List.of("load_pending(integer)"),
                List.of("pause_loading(text)"), List.of("prune_landing(interval,interval,interval,integer)"),
                List.of("reject_document(bigint,text)"),
                List.of("reload_documents(bigint,bigint,integer)"),
                List.of("reprocess_rejected(text,bigint,bigint,timestamp with time zone,timestamp with time zone,integer,boolean)"),
                List.of("resume_loading()"),
                List.of("test_mv.count_rejected_to_reprocess(text,bigint,bigint,timestamp with time zone,timestamp with time zone)"),
                List.of("test_mv.document_limit_problem(jsonb)"), List.of("test_mv.document_problem(jsonb)"),
                List.of("test_mv.first_address_date(jsonb)"),
                List.of("test_mv.lanes()"), List.of("test_mv.load_horizon()"), List.of("test_mv.load_next_batch(integer)"),
                List.of("test_mv.note_changed_documents()"),
                List.of("test_mv.one_rejection(bigint,xid8,bigint)"),
                List.of("test_mv.prune_duplicates_batch(bigint,bigint,integer)"),
                List.of("test_mv.prune_history_batch(timestamp with time zone,integer)"),
                List.of("test_mv.prune_next_batch(integer,xid8,bigint,timestamp with time zone,integer)"),
                List.of("test_mv.record_run_check(bigint,bigint,bigint,integer,numeric,text)"),
                List.of("test_mv.record_run_failure(text,text)"), List.of("test_mv.record_run_success()"),
                List.of("test_mv.redo_listed(text,bigint[],bigint,integer)"),
                List.of("test_mv.reject_duplicates_of(bigint[],bigint)"),
                List.of("test_mv.reject_listed_document(text,bigint,test_mv.load_metadata,bigint,text)"),
                List.of("test_mv.reject_next_document(test_mv.load_metadata,xid8,bigint,text)"),
                List.of("test_mv.rejected_to_reprocess(bigint,text,bigint,bigint,timestamp with time zone,timestamp with time zone,integer)"),
                List.of("test_mv.reload_next_batch(bigint,bigint,integer)"),
                List.of("test_mv.remove_child_rows(bigint[])"),
                List.of("test_mv.reprocess_next_batch(bigint,text,bigint,bigint,timestamp with time zone,timestamp with time zone,integer)"),
                List.of("test_mv.settle_redone_documents(text,bigint,bigint,bigint,bigint[])"),
                List.of("test_mv.write_batch(text,integer,bigint[])")), routines);
        for (List<Object> routine : routines) {
            // A trigger function is checked against a table it serves, with its transition tables.
            String trigger = routine.get(0).equals("test_mv.note_changed_documents()")
                    ? ", relid => 'test_mv.phones', oldtable => 'old_rows', newtable => 'new_rows'" : "";
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
     * each batch) qualify every name instead; PlantedFunctionsTest proves that nothing planted is called.
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
                List.of("test_mv.admit_landing()"), List.of("test_mv.document_lane(bigint)"), List.of("test_mv.document_md5(jsonb)"),
                List.of("test_mv.is_loadable(jsonb)")), unpinned);
    }
}
