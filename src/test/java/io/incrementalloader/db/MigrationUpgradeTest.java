package io.incrementalloader.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
                assertEquals(List.of("1 true", "2 null"), rows(s, "select request_id || ' ' || coalesce("
                        + "(document_key = (select jsonb_hash_extended(stage, 0) from fake_json_request r"
                        + " where r.id = request_id))::text, 'null') from test_mv.clients order by 1"));
                s.execute("insert into fake_json_request (stage) values ('{\"application_id\": 1.0}')");
                s.execute("call load_batch(10)");
                assertEquals(List.of("3 1"), rows(s, "select request_id || ' ' || duplicate_of from test_mv.load_duplicates"));
            }
        } finally {
            PostgresServer.get().dropDatabase(settings);
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
