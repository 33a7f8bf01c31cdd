package io.incrementalloader.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.status.LoaderStatus;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.verify.Reconciliation;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;

/**
 * Producers only produce, the loader needs only what the README grants it, and nothing planted in a schema someone
 * else can write to runs in the loader's place. The roles are the README's, with its exact grants.
 */
class RolesAndPrivilegesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final String PRODUCER = "il_test_producer";
    private static final String LOADER = "il_test_loader";
    private static final String READER = "il_test_reader";
    private static final String CALLER = "il_test_caller";
    private static final String NOBODY = "il_test_nobody";
    private static final String OPERATOR = "il_test_operator";

    @BeforeAll
    static void createTheReadmesRoles() {
        dropRoles();
        db.execute("create role " + PRODUCER + " login; create role " + LOADER + " login; create role " + READER + " login;"
                + " create role " + CALLER + " login; create role " + NOBODY + " login; create role " + OPERATOR + " login");
        // Producer: INSERT on the whole landing table, more than the README asks for (INSERT (stage)).
        db.execute("grant insert on public.fake_json_request to " + PRODUCER);
        // Reader: what the README grants for status and verify.
        db.execute("grant usage on schema test_mv to " + READER + ";"
                + " grant select on all tables in schema test_mv to " + READER + ";"
                + " grant select on public.fake_json_request, public.stage_json_with_date to " + READER + ";"
                + " grant select on test_mv.flyway_schema_history to " + READER);
        // Loader: what the README grants (the service reads as a reader does, to check each run).
        db.execute("grant usage on schema test_mv to " + LOADER + ";"
                + " grant execute on routine public.load_batch(integer), public.load_pending(integer),"
                + " test_mv.load_next_batch(integer),"
                + " test_mv.record_run_check(bigint, bigint, bigint, integer, numeric, text, text),"
                + " test_mv.record_run_failure(text, text), test_mv.record_run_success() to " + LOADER + ";"
                + " grant " + READER + " to " + LOADER);
        // A DBA who only calls load_batch: the README's EXECUTE line alone.
        db.execute("grant usage on schema test_mv to " + CALLER + ";"
                + " grant execute on routine public.load_batch(integer), public.load_pending(integer),"
                + " test_mv.load_next_batch(integer) to " + CALLER);
        // Operator: the README's grants for the data's lifecycle, on top of the loader's.
        db.execute("grant " + LOADER + " to " + OPERATOR + ";"
                + " grant execute on routine public.pause_loading(text), public.resume_loading(),"
                + " public.reject_document(bigint, text),"
                + " public.reprocess_rejected(text, bigint, bigint, timestamptz, timestamptz, integer, boolean),"
                + " test_mv.reprocess_next_batch(bigint, text, bigint, bigint, timestamptz, timestamptz, integer),"
                + " test_mv.count_rejected_to_reprocess(text, bigint, bigint, timestamptz, timestamptz),"
                + " public.reload_documents(bigint, bigint, integer), test_mv.reload_next_batch(bigint, bigint, integer),"
                + " public.prune_landing(interval, interval, interval, integer),"
                + " test_mv.prune_next_batch(integer, xid8, bigint, timestamptz, integer),"
                + " test_mv.prune_history_batch(timestamptz, integer),"
                + " test_mv.prune_duplicates_batch(bigint, bigint, integer) to " + OPERATOR);
    }

    @Test
    void the_operator_runs_the_datas_lifecycle_and_the_loader_alone_cannot() throws SQLException {
        db.land("{\"application_id\": 1}", "{\"application_id\": []}", "{\"application_id\": 3}");
        try (Connection operator = as(OPERATOR); Statement s = operator.createStatement()) {
            s.execute("call pause_loading('maintenance')");
            s.execute("call resume_loading()");
            s.execute("call load_pending(100)");
            s.execute("call reject_document(3, 'test data')");
            s.execute("call reprocess_rejected(p_dry_run => true)");
            s.execute("call reprocess_rejected('rejected by hand%')");
            s.execute("call reload_documents(1, 3)");
            s.execute("call prune_landing(interval '0', interval '0', interval '0')");
        }
        assertEquals(2L, db.count("select sum(loaded_documents) from test_mv.load_metadata"));
        assertEquals(3L, db.count("select pruned_documents from test_mv.load_control"));
        try (Connection loader = as(LOADER); Statement s = loader.createStatement()) {
            SQLException denied = assertThrows(SQLException.class, () -> s.execute("call pause_loading('x')"));
            assertEquals("42501", denied.getSQLState());
            denied = assertThrows(SQLException.class, () -> s.execute("call prune_landing(interval '0')"));
            assertEquals("42501", denied.getSQLState());
        }
    }

    @AfterAll
    static void dropRoles() {
        for (String role : List.of(OPERATOR, PRODUCER, LOADER, READER, CALLER, NOBODY)) {
            db.execute("do $$ begin if exists (select 1 from pg_roles where rolname = '" + role + "') then"
                    + " execute 'drop owned by " + role + "'; execute 'drop role " + role + "'; end if; end $$");
        }
    }

    private static Connection as(String role) {
        ConnectionSettings admin = db.settings();
        return new ConnectionSettings(admin.url(), role, null, true).open();
    }

    @Test
    void a_producer_with_insert_on_the_whole_table_cannot_hide_renumber_or_reorder_a_document() throws SQLException {
        try (Connection producer = as(PRODUCER); Statement s = producer.createStatement()) {
            s.execute("insert into public.fake_json_request (stage) values ('{\"application_id\": 1}')");
            SQLException olderXid = assertThrows(SQLException.class, () -> s.execute(
                    "insert into public.fake_json_request (stage, landed_xid) values ('{\"application_id\": 2}', '3')"));
            assertTrue(olderXid.getMessage().contains("ck_fake_json_request_landed_xid"), olderXid::getMessage);
            SQLException forgedId = assertThrows(SQLException.class, () -> s.execute(
                    "insert into public.fake_json_request (id, stage) overriding system value"
                            + " values (1000000, '{\"application_id\": 3}')"));
            assertTrue(forgedId.getMessage().contains("ck_fake_json_request_id"), forgedId::getMessage);
            SQLException copiedId = assertThrows(SQLException.class, () -> producer.unwrap(PGConnection.class)
                    .getCopyAPI().copyIn("copy public.fake_json_request (id, stage) from stdin",
                            new java.io.ByteArrayInputStream("1000\t{\"application_id\": 4}\n".getBytes())));
            assertTrue(copiedId.getMessage().contains("ck_fake_json_request_id"), copiedId::getMessage);
            // A landed row cannot be moved afterwards either, by anyone.
            assertThrows(IllegalStateException.class, () -> db.execute(
                    "update public.fake_json_request set landed_xid = '3'"));
        }
        db.execute("call load_batch(100)");
        assertEquals(List.of(List.of(1L, 1)), db.query("select client_id, application_id from test_mv.clients"));
    }

    @Test
    void a_dba_loads_with_execute_alone_and_the_reader_reads_status_and_verifies() throws SQLException {
        db.landNumbered(5);
        try (Connection caller = as(CALLER); Statement s = caller.createStatement()) {
            s.execute("call load_batch(2)");
            s.execute("call load_pending(100)");
            SQLException noTables = assertThrows(SQLException.class,
                    () -> s.executeQuery("select count(*) from test_mv.clients"));
            assertEquals("42501", noTables.getSQLState(), "a caller of load_batch reads no table directly");
            SQLException noVerdicts = assertThrows(SQLException.class, () -> s.execute(
                    "select test_mv.record_run_check(1, 1, 0, 0, 0, 'sound', pg_current_snapshot()::text)"));
            assertEquals("42501", noVerdicts.getSQLState(), "only the service's role records verdicts");
        }
        assertEquals(5L, db.count("select count(*) from test_mv.clients"));
        try (Connection reader = as(READER)) {
            assertEquals(List.of(), Reconciliation.check(reader));
            LoaderStatus status = LoaderStatus.read(reader);
            assertEquals(5L, status.totals().loaded());
            assertThrows(SQLException.class, () -> reader.createStatement().execute("call load_batch(100)"));
        }
    }

    private static Cli.Result runAs(String role, String... command) {
        List<String> args = new java.util.ArrayList<>(List.of(command));
        args.addAll(List.of("--url", db.settings().url(), "--user", role));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void the_commands_run_as_the_readmes_roles_and_a_role_without_grants_is_told_what_it_lacks() {
        db.landNumbered(5);
        Cli.Result loaded = runAs(LOADER, "load");
        assertEquals(0, loaded.exitCode(), loaded::toString);
        assertTrue(loaded.out().contains("Checked"), loaded::toString);
        assertEquals(5L, db.count("select count(*) from test_mv.clients"));
        assertEquals(1L, db.count("select count(*) from test_mv.run_checks where verdict = 'sound'"));
        for (String command : List.of("status", "verify")) {
            Cli.Result read = runAs(READER, command);
            assertEquals(0, read.exitCode(), read::toString);
        }
        Cli.Result refused = runAs(NOBODY, "load");
        assertEquals(2, refused.exitCode(), refused::toString);
        assertTrue(refused.err().contains("grant select on test_mv.flyway_schema_history"), refused::toString);
        assertFalse(refused.err().contains("\tat "), refused::toString);
        Cli.Result readerLoads = runAs(READER, "load");
        assertEquals(2, readerLoads.exitCode(), readerLoads::toString);
        assertTrue(readerLoads.err().contains("permission denied"), readerLoads::toString);
        assertTrue(readerLoads.err().contains("Roles and privileges"), readerLoads::toString);
    }

    @Test
    void a_role_that_cannot_migrate_is_told_who_must_when_a_migration_is_pending() {
        db.execute("update test_mv.flyway_schema_history set checksum = 1 where script = 'R__load_pending.sql'");
        try {
            Cli.Result pending = runAs(LOADER, "load");
            assertEquals(2, pending.exitCode(), pending::toString);
            assertTrue(pending.err().contains("1 migration(s) are pending"), pending::toString);
            assertTrue(pending.err().contains("Run `incremental-loader migrate` as the role that owns"), pending::toString);
        } finally {
            Migrations.apply(db.settings());
        }
        assertEquals(0, runAs(LOADER, "load").exitCode(), "once migrated, the loader goes on");
    }

    /**
     * Functions and an operator planted in public, with the very signatures of the built-ins the loader uses, and a
     * search_path that puts public first: an unpinned routine would call them. Each records its call.
     */
    @Test
    void functions_planted_in_public_are_called_neither_by_the_loader_nor_by_verify_nor_by_status() throws SQLException {
        db.execute("create table public.planted_calls (name text)");
        for (String signature : List.of("jsonb_hash_extended(p jsonb, s bigint) returns bigint",
                "jsonb_typeof(p jsonb) returns text", "jsonb_array_length(p jsonb) returns integer",
                "md5(p text) returns text", "jsonb_object_keys(p jsonb) returns setof text",
                "jsonb_path_exists(p jsonb, q jsonpath, v jsonb, s boolean) returns boolean",
                "pg_try_advisory_lock(k bigint) returns boolean", "jsonb_array_elements(p jsonb) returns setof jsonb")) {
            String name = signature.substring(0, signature.indexOf('('));
            String arguments = signature.substring(signature.indexOf('(') + 1, signature.indexOf(')'))
                    .replaceAll("(\\w+) \\w+", "$1");
            db.execute("create function public." + signature + " language plpgsql as $$ begin"
                    + " insert into public.planted_calls values ('" + name + "');"
                    + (signature.contains("setof") ? " return query select * from pg_catalog." + name + "(" + arguments + ");"
                            : " return pg_catalog." + name + "(" + arguments + ");")
                    + " end $$");
        }
        db.execute("create function public.planted_arrow(p jsonb, k text) returns jsonb language plpgsql as $$ begin"
                + " insert into public.planted_calls values ('->'); return p operator(pg_catalog.->) k; end $$;"
                + " create operator public.-> (leftarg = jsonb, rightarg = text, function = public.planted_arrow)");
        try {
            db.land("{\"application_id\": 1, \"phones\": [{\"mobile\": \"1\"}], \"products\": {\"product_cnt\": {\"a\": 1}}}",
                    "{\"application_id\": 1, \"phones\": [{\"mobile\": \"1\"}], \"products\": {\"product_cnt\": {\"a\": 1}}}",
                    "{\"application_id\": \"bad\"}");
            try (Connection dba = db.connect(); Statement s = dba.createStatement()) {
                s.execute("set search_path = public, pg_catalog");
                s.execute("select jsonb_typeof('{}'::jsonb), '{}'::jsonb -> 'a'");
                assertEquals(List.of(List.of("jsonb_typeof"), List.of("->")),
                        db.query("select name from public.planted_calls"), "the plants work where nothing is pinned");
                db.execute("truncate public.planted_calls");

                s.execute("call load_batch(100)");
                s.execute("select * from stage_json_with_date");
                assertEquals(List.of(), Reconciliation.check(dba));
                LoaderStatus.read(dba);
            }
            assertEquals(List.of(), db.query("select name from public.planted_calls"));
            assertEquals(List.of(List.of(1L, 1L, 1L)), db.query("select (select count(*) from test_mv.clients),"
                    + " (select count(*) from test_mv.load_duplicates), (select count(*) from test_mv.load_errors)"));
        } finally {
            db.execute("drop operator public.-> (jsonb, text); drop function public.planted_arrow(jsonb, text);"
                    + " drop function public.jsonb_hash_extended(jsonb, bigint), public.jsonb_typeof(jsonb),"
                    + " public.jsonb_array_length(jsonb), public.md5(text), public.jsonb_object_keys(jsonb),"
                    + " public.jsonb_path_exists(jsonb, jsonpath, jsonb, boolean), public.pg_try_advisory_lock(bigint),"
                    + " public.jsonb_array_elements(jsonb); drop table public.planted_calls");
        }
    }
}
