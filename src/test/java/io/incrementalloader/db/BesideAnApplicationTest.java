package io.incrementalloader.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The loader installs in a database it does not own: beside an application's tables and its own Flyway history in
 * public, under any database default search_path; it keeps its history in its own schema, never touches the
 * application's, and the commands that read change nothing.
 */
class BesideAnApplicationTest {
    private ConnectionSettings settings;

    @BeforeEach
    void anApplicationsDatabase() throws SQLException {
        settings = PostgresServer.get().createDatabase("BesideAnApplicationTest");
        execute("create table public.orders (id bigint primary key, note text);"
                + " insert into public.orders values (1, 'first order');"
                // The application's own Flyway history, where Flyway puts it by default.
                + " create table public.flyway_schema_history (installed_rank integer not null primary key,"
                + " version varchar(50), description varchar(200) not null, type varchar(20) not null,"
                + " script varchar(1000) not null, checksum integer, installed_by varchar(100) not null,"
                + " installed_on timestamp not null default now(), execution_time integer not null, success boolean not null);"
                + " insert into public.flyway_schema_history values (1, '1', 'orders', 'SQL', 'V1__orders.sql', 123, 'app',"
                + " '2026-01-01 10:00', 12, true)");
    }

    @AfterEach
    void drop() {
        PostgresServer.get().dropDatabase(settings);
    }

    private String url() {
        return settings.url();
    }

    @Test
    void migrate_load_and_status_leave_the_applications_tables_and_history_as_they_were() throws SQLException {
        List<String> before = applicationState();
        assertEquals(0, Cli.run("migrate", "--url", url()).exitCode());
        execute("insert into fake_json_request (stage) values ('{\"application_id\": 1}'), ('{\"application_id\": 2}')");
        Cli.Result load = Cli.run("load", "--url", url());
        assertEquals(0, load.exitCode(), load::toString);
        Cli.Result status = Cli.run("status", "--url", url());
        assertEquals(0, status.exitCode(), status::toString);
        assertEquals(before, applicationState(), "the application's tables and history, row for row");
        assertEquals(List.of("2"), rows("select count(*) from test_mv.clients"));
        assertTrue(rows("select count(*) from test_mv.flyway_schema_history where script like 'V0%'").get(0)
                .compareTo("13") >= 0, "the loader's history is its own");
    }

    @Test
    void a_database_default_search_path_neither_misleads_the_commands_nor_makes_them_create_schemas() throws SQLException {
        assertEquals(0, Cli.run("migrate", "--url", url()).exitCode());
        for (String searchPath : List.of("app, public", "\"evil, public\"", "pg_temp")) {
            execute("alter database " + database() + " set search_path = " + searchPath);
            List<String> schemas = schemas();
            for (String command : List.of("migrate", "status", "load", "verify")) {
                Cli.Result result = Cli.run(command, "--url", url());
                assertEquals(0, result.exitCode(), searchPath + ": " + result);
                assertTrue(!result.err().contains("migration(s) to apply"), searchPath + ": " + result);
            }
            assertEquals(schemas, schemas(), "no schema created under search_path " + searchPath);
        }
    }

    @Test
    void the_commands_that_read_say_the_loader_is_missing_and_create_nothing() throws SQLException {
        List<String> before = allRelations();
        for (String command : List.of("status", "verify")) {
            Cli.Result result = Cli.run(command, "--url", url());
            assertEquals(2, result.exitCode(), result::toString);
            assertTrue(result.err().contains("has no incremental-loader schema") && result.err().contains("migrate"),
                    result::toString);
            assertTrue(!result.err().contains("\tat "), result::toString);
        }
        assertEquals(before, allRelations(), "nothing was created");
    }

    @Test
    void the_commands_that_read_say_migrations_are_pending_and_apply_none() throws SQLException {
        assertEquals(0, Cli.run("migrate", "--url", url()).exitCode());
        execute("update test_mv.flyway_schema_history set checksum = checksum + 1 where script = 'R__load_status.sql'");
        List<String> history = rows("select concat_ws(' ', installed_rank, script, checksum) from test_mv.flyway_schema_history order by 1");
        Cli.Result status = Cli.run("status", "--url", url());
        assertEquals(2, status.exitCode(), status::toString);
        assertTrue(status.err().contains("1 migration(s) of the loader are pending") && status.err().contains("migrate"),
                status::toString);
        assertEquals(history, rows("select concat_ws(' ', installed_rank, script, checksum) from test_mv.flyway_schema_history order by 1"));
    }

    /** A database that an older version migrated kept the loader's history in public.flyway_schema_history. */
    @Test
    void an_older_versions_history_in_public_is_copied_once_and_left_as_it_was() throws SQLException {
        execute("drop table public.flyway_schema_history, public.orders"); // an older version installed in an empty public
        Flyway.configure().dataSource(url(), settings.user(), settings.password()).locations("classpath:db/migration")
                .target("11").load().migrate();
        List<String> legacy = rows("select concat_ws(' ', installed_rank, version, script, checksum, success)"
                + " from public.flyway_schema_history order by 1");
        Cli.Result migrate = Cli.run("migrate", "--url", url());
        assertEquals(0, migrate.exitCode(), migrate::toString);
        assertEquals(legacy, rows("select concat_ws(' ', installed_rank, version, script, checksum, success)"
                + " from public.flyway_schema_history order by 1"), "the old history is left as it was");
        assertEquals(rows("select count(*) from public.flyway_schema_history where script like 'V01_%'"),
                rows("select count(*) from test_mv.flyway_schema_history where version in ('010', '011')"));
        assertEquals(List.of("0"), rows("select count(*) from test_mv.flyway_schema_history where not success"));
        assertEquals(0, Cli.run("status", "--url", url()).exitCode());
    }

    private String database() {
        return url().replaceAll("^.*/([^/?]+)(\\?.*)?$", "$1");
    }

    private List<String> applicationState() throws SQLException {
        List<String> state = new ArrayList<>(rows("select t::text from public.orders t order by id"));
        state.addAll(rows("select t::text from public.flyway_schema_history t order by installed_rank"));
        state.addAll(rows("select column_name || ' ' || data_type from information_schema.columns"
                + " where table_schema = 'public' and table_name in ('orders', 'flyway_schema_history') order by table_name, ordinal_position"));
        return state;
    }

    private List<String> schemas() throws SQLException {
        return rows("select nspname from pg_namespace where nspname !~ '^pg_(toast_)?temp_' order by 1");
    }

    private List<String> allRelations() throws SQLException {
        return rows("select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                + " where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') order by 1");
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = settings.open(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private List<String> rows(String sql) throws SQLException {
        try (Connection c = settings.open(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            List<String> rows = new ArrayList<>();
            while (r.next()) {
                rows.add(r.getString(1));
            }
            return rows;
        }
    }
}
