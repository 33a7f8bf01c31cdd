package io.incrementalloader.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** A database loaded under an older schema comes through a newer migration with its data intact. */
class MigrationUpgradeTest {

    /** V004 replaced clients.document_hash (md5) with document_key: loaded clients must get theirs. */
    @Test
    void clients_loaded_before_v004_get_their_documents_key_and_their_twins_are_still_recognised() throws Exception {
        ConnectionSettings settings = PostgresServer.get().createDatabase("MigrationUpgradeTest");
        try {
            Flyway.configure().dataSource(settings.url(), settings.user(), settings.password())
                    .locations("classpath:db/migration").target("3").load().migrate();
            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                // What the loader of V003's days left: two loaded documents, one of them since pruned from landing.
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 1}'),"
                        + " ('{\"application_id\": 2}')");
                s.execute("insert into test_mv.clients (request_id, application_id, document_hash, batch_id)"
                        + " select id, (stage ->> 'application_id')::integer, md5(stage::text)::uuid, 1"
                        + " from fake_json_request");
                s.execute("delete from fake_json_request where id = 2");
                s.execute("update test_mv.load_metadata set last_xid = (select max(landed_xid) from fake_json_request),"
                        + " last_request_id = 2");
            }

            Migrations.apply(settings);

            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                assertEquals(List.of("1 true", "2 null"), rows(s, "select client_id || ' ' || coalesce("
                        + "(document_key = (select jsonb_hash_extended(stage, 0) from fake_json_request r"
                        + " where r.id = client_id))::text, 'null') from test_mv.clients order by 1"));
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 1.0}')");
                s.execute("call load_batch(10)");
                assertEquals(List.of("3 1"), rows(s, "select request_id || ' ' || duplicate_of from test_mv.load_duplicates"));
            }
        } finally {
            PostgresServer.get().dropDatabase(settings);
        }
    }

    /**
     * V006 gave the tables the original design's names and keys: what was loaded before keeps its rows (request_id
     * becomes client_id, every child row gets its surrogate key), the position carries on, and the original's queries
     * run on the result.
     */
    @Test
    void a_database_loaded_under_v005_gets_the_seeds_schema_with_its_data_and_loading_carries_on() throws Exception {
        ConnectionSettings settings = PostgresServer.get().createDatabase("MigrationUpgradeTestV006");
        try {
            Flyway.configure().dataSource(settings.url(), settings.user(), settings.password())
                    .locations("classpath:db/migration").target("5").load().migrate();
            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                // What the loader of V005's days left for one loaded document.
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 7, \"phones\":"
                        + " [{\"mobile\": \"1\"}, {\"home\": \"2\"}], \"addresses\": [{\"type\": \"home\","
                        + " \"date\": \"01-02-2003\", \"address\": null}], \"products\": {\"product_cnt\": {\"pen\": 2},"
                        + " \"total_sum\": 5}}')");
                s.execute("insert into test_mv.clients (request_id, application_id, document_key, batch_id)"
                        + " select id, 7, jsonb_hash_extended(stage, 0), 1 from fake_json_request");
                s.execute("insert into test_mv.phones (request_id, position, type, number) values (1, 1, 'mobile', '1'),"
                        + " (1, 2, 'home', '2')");
                s.execute("insert into test_mv.addresses (request_id, position, type, date) values (1, 1, 'home', '2003-02-01')");
                s.execute("insert into test_mv.products (request_id, product_name, count, total_sum) values (1, 'pen', 2, 5)");
                s.execute("update test_mv.load_metadata set last_xid = (select max(landed_xid) from fake_json_request),"
                        + " last_request_id = 1, last_hash = 'h', updated_at = now() - interval '1 minute'");
            }

            Migrations.apply(settings);

            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 8, \"phones\":"
                        + " [{\"work\": \"3\"}], \"addresses\": [{\"type\": \"work\", \"date\": \"31-12-2024\"}]}')");
                s.execute("call load_batch(10)");
                // The original design's queries, exactly as written.
                assertEquals(List.of("7 mobile 1", "7 home 2", "8 work 3"), rows(s, "select concat_ws(' ', application_id, type,"
                        + " number) from (select c.application_id, p.type, p.number from test_mv.clients c join test_mv.phones p"
                        + " using (client_id)) q order by number"));
                assertEquals(List.of("7 home 2003-02-01", "8 work 2024-12-31"), rows(s, "select concat_ws(' ', application_id,"
                        + " type, date) from (select c.application_id, a.type, a.date from test_mv.clients c join"
                        + " test_mv.addresses a using (client_id)) q order by 1"));
                assertEquals(List.of("7 pen 2 5"), rows(s, "select concat_ws(' ', application_id, product_name, count,"
                        + " total_sum) from (select c.application_id, p.product_name, p.count, p.total_sum from test_mv.clients c"
                        + " join test_mv.products p using (client_id)) q"));
                assertEquals(List.of("2024-12-31 true"), rows(s, "select last_date || ' ' || (last_hash = (select"
                        + " json_data_hash from stage_json_with_date where id = 2)) from test_mv.load_metadata"
                        + " order by updated_at desc limit 1"));
                assertEquals(List.of("2003-02-01 1", "2024-12-31 2"), rows(s, "select date || ' ' || (json_data ->>"
                        + " 'application_id')::int - 6 from (select json_data_hash, date, json_data from stage_json_with_date"
                        + " order by date asc, json_data_hash asc) q"));
                assertEquals(List.of("2 1 1 1"), rows(s, "select concat_ws(' ', (select count(distinct phone_id) from"
                        + " test_mv.phones where client_id = 1), (select count(*) from test_mv.phones where client_id = 2"
                        + " and phone_id > (select max(phone_id) from test_mv.phones where client_id = 1)),"
                        + " (select count(address_id) from test_mv.addresses where client_id = 1),"
                        + " (select count(product_id) from test_mv.products where client_id = 1))"));
            }
        } finally {
            PostgresServer.get().dropDatabase(settings);
        }
    }

    /**
     * Batches loaded before V007 recorded no positions: the first run after the upgrade checks its own batches, and
     * verify still covers the old ones.
     */
    @Test
    void a_database_loaded_under_v006_checks_the_runs_after_its_upgrade() throws Exception {
        ConnectionSettings settings = PostgresServer.get().createDatabase("MigrationUpgradeTestV007");
        try {
            Flyway.configure().dataSource(settings.url(), settings.user(), settings.password())
                    .locations("classpath:db/migration").target("6").load().migrate();
            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                // What the loader of V006's days left for one loaded document, and its batch.
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 7, \"phones\":"
                        + " [{\"mobile\": \"1\"}]}')");
                s.execute("insert into test_mv.clients (client_id, application_id, document_key, batch_id)"
                        + " select id, 7, jsonb_hash_extended(stage, 0), 1 from fake_json_request");
                s.execute("insert into test_mv.phones (client_id, position, type, number) values (1, 1, 'mobile', '1')");
                s.execute("insert into test_mv.load_batches (batch_id, started_at, finished_at, batch_size, taken,"
                        + " loaded, rejected, duplicates, phones, addresses, products, first_request_id, last_request_id,"
                        + " caller) values (1, now(), now(), 100, 1, 1, 0, 0, 1, 0, 0, 1, 1, 'v006')");
                s.execute("select setval('test_mv.load_batch_id_seq', 1)");
                s.execute("update test_mv.load_metadata set last_xid = (select max(landed_xid) from fake_json_request),"
                        + " last_request_id = 1, last_batch_id = 1");
            }

            Migrations.apply(settings);

            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 8, \"phones\":"
                        + " [{\"work\": \"3\"}]}')");
            }
            Cli.Result load = Cli.run("load", "--url", settings.url());
            assertEquals(0, load.exitCode(), load::toString);
            assertTrue(load.out().contains("(batches 2-2, "), load::toString);
            Cli.Result verify = Cli.run("verify", "--url", settings.url());
            assertEquals(0, verify.exitCode(), verify::toString);
        } finally {
            PostgresServer.get().dropDatabase(settings);
        }
    }

    /** The running totals of V009 start from what a database loaded before holds, and the loader adds to them. */
    @Test
    void a_database_loaded_under_v008_gets_running_totals_that_count_its_tables() throws Exception {
        ConnectionSettings settings = PostgresServer.get().createDatabase("MigrationUpgradeTestV009");
        try {
            Flyway.configure().dataSource(settings.url(), settings.user(), settings.password())
                    .locations("classpath:db/migration").target("8").load().migrate();
            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                // What V008's loader left for three documents: one loaded, one rejected, one duplicate of the first.
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 7}'),"
                        + " ('{\"application_id\": []}'), ('{\"application_id\": 7}')");
                s.execute("insert into test_mv.clients (client_id, application_id, document_key, batch_id)"
                        + " values (1, 7, jsonb_hash_extended('{\"application_id\": 7}', 0), 1)");
                s.execute("insert into test_mv.load_errors (request_id, batch_id, reason, json_data)"
                        + " values (2, 1, 'application_id: not a JSON integer', '{\"application_id\": []}')");
                s.execute("insert into test_mv.load_duplicates (request_id, duplicate_of, batch_id) values (3, 1, 1)");
                s.execute("update test_mv.load_metadata set last_xid = (select max(landed_xid) from fake_json_request),"
                        + " last_request_id = 3, last_batch_id = 1");
            }

            Migrations.apply(settings);

            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                assertEquals(List.of("1 1 1"), rows(s, "select concat_ws(' ', sum(loaded_documents), sum(rejected_documents),"
                        + " sum(duplicate_documents)) from test_mv.load_metadata"));
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 8}'),"
                        + " ('{\"application_id\": 7}'), ('{\"application_id\": \"x\"}')");
                s.execute("call load_batch(100)");
                assertEquals(List.of("2 2 2"), rows(s, "select concat_ws(' ', sum(loaded_documents), sum(rejected_documents),"
                        + " sum(duplicate_documents)) from test_mv.load_metadata"));
            }
        } finally {
            PostgresServer.get().dropDatabase(settings);
        }
    }

    /**
     * V011 splits the one position into 16 lanes' at the same place: nothing taken before is taken again, whatever
     * its lane, nothing pending is passed over, and the totals carry on.
     */
    @Test
    void a_database_loaded_under_v010_gets_a_position_a_lane_where_the_one_position_stood() throws Exception {
        ConnectionSettings settings = PostgresServer.get().createDatabase("MigrationUpgradeTestV011");
        try {
            Flyway.configure().dataSource(settings.url(), settings.user(), settings.password())
                    .locations("classpath:db/migration").target("10").load().migrate();
            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                // V010's loader took the first 100 of 300 documents (its load_batch, applied with the repeatables of
                // this version, cannot run on V010's tables: so the state it leaves is written here).
                s.execute("insert into fake_json_request (stage) select jsonb_build_object('application_id', g)"
                        + " from generate_series(1, 300) g");
                s.execute("insert into test_mv.clients (client_id, application_id, document_key, batch_id)"
                        + " select id, (stage ->> 'application_id')::integer, jsonb_hash_extended(stage, 0), 1"
                        + " from fake_json_request where id <= 100");
                s.execute("update test_mv.load_metadata set last_xid = (select landed_xid from fake_json_request"
                        + " where id = 100), last_request_id = 100, last_batch_id = 1, loaded_documents = 100");
                // The README's operator, granted the pruning routines as they were before lanes: a stand-in of that
                // prune_next_batch, and R__prune.sql to be applied again, as an upgrade from then applies it.
                s.execute("drop role if exists il_test_upgrade_operator; create role il_test_upgrade_operator");
                s.execute("create function test_mv.prune_next_batch(xid8, bigint, timestamptz, integer,"
                        + " out pruned integer, out next_xid xid8, out next_id bigint) language sql"
                        + " as 'select 0, null::xid8, null::bigint'");
                s.execute("grant execute on function test_mv.prune_next_batch(xid8, bigint, timestamptz, integer)"
                        + " to il_test_upgrade_operator");
                s.execute("delete from flyway_schema_history where script = 'R__prune.sql'");
            }

            Migrations.apply(settings);

            try (Connection c = settings.open(); Statement s = c.createStatement()) {
                assertEquals(List.of("16 1 100 100"), rows(s, "select concat_ws(' ', count(*), count(distinct"
                        + " (last_xid, last_request_id)), max(last_request_id), sum(loaded_documents))"
                        + " from test_mv.load_metadata"));
                s.execute("call load_pending(100)");
                assertEquals(List.of("300 300 0"), rows(s, "select concat_ws(' ', count(*), count(distinct client_id),"
                        + " (select count(*) from test_mv.load_errors) + (select count(*) from test_mv.load_duplicates))"
                        + " from test_mv.clients"));
                assertEquals(List.of("200 101 300"), rows(s, "select concat_ws(' ', sum(taken), min(first_request_id),"
                        + " max(last_request_id)) from test_mv.load_batches"));
                assertEquals(List.of("300"), rows(s, "select sum(loaded_documents) from test_mv.load_metadata"));
                assertEquals(List.of("t"), rows(s, "select has_function_privilege('il_test_upgrade_operator',"
                        + " 'test_mv.prune_next_batch(integer, xid8, bigint, timestamptz, integer)', 'execute')"),
                        "the operator may still prune");
                assertEquals(List.of("1"), rows(s, "select count(*) from pg_proc where proname = 'prune_next_batch'"),
                        "the old one is gone");
            }
        } finally {
            PostgresServer.get().dropDatabase(settings);
            try (Connection c = PostgresServer.get().admin().open(); Statement s = c.createStatement()) {
                s.execute("drop role if exists il_test_upgrade_operator");
            }
        }
    }

    private static List<String> rows(Statement s, String sql) throws Exception {
        List<String> rows = new ArrayList<>();
        try (ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                rows.add(r.getString(1));
            }
        }
        return rows;
    }
}
