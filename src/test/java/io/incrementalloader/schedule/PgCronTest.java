package io.incrementalloader.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The README's pg_cron recipe, proven on a PostgreSQL cluster of the test's own (initdb in a temporary folder, a
 * free port, shared_preload_libraries = 'pg_cron'): the shared server is never reconfigured. The job as the README
 * writes it loads; the same CALL in a job of two statements fails with "invalid transaction termination", as the
 * README warns. pg_cron's schedules are whole minutes, so this test waits about one: it runs in CI (which installs
 * postgresql-15-cron and runs as root, which runuser needs) and is skipped elsewhere.
 */
@Tag("slow")
class PgCronTest {
    private static final String BIN = "/usr/lib/postgresql/15/bin/";
    private static Path dir;
    private static int port;

    @BeforeAll
    static void startACluster() throws Exception {
        boolean possible = Files.exists(Path.of("/usr/lib/postgresql/15/lib/pg_cron.so"))
                && "root".equals(System.getProperty("user.name"));
        if (System.getenv("CI") == null) {
            Assumptions.assumeTrue(possible, "needs postgresql-15-cron and root (runs in CI)");
        }
        assertTrue(possible, "CI installs postgresql-15-cron (.ci/run) and runs as root");
        dir = Files.createTempDirectory("il-pgcron");
        run("chown", "postgres", dir.toString());
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        asPostgres(BIN + "initdb", "-D", dir + "/data", "-A", "trust", "-U", "postgres", "--no-sync");
        asPostgres(BIN + "pg_ctl", "-D", dir + "/data", "-w", "-l", dir + "/server.log", "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_cron"
                        + " -c cron.database_name=postgres -c cron.host=127.0.0.1", "start");
    }

    @AfterAll
    static void stopTheCluster() throws Exception {
        if (dir != null) {
            asPostgres(BIN + "pg_ctl", "-D", dir + "/data", "-m", "immediate", "-w", "stop");
            run("rm", "-rf", dir.toString());
        }
    }

    private static ConnectionSettings database(String name) {
        return new ConnectionSettings("jdbc:postgresql://127.0.0.1:" + port + "/" + name, "postgres", null, true);
    }

    @Test
    void the_readmes_job_loads_and_a_job_of_two_statements_fails_as_the_readme_warns() throws Exception {
        for (String name : List.of("readme", "two_statements")) {
            try (Connection c = database("postgres").open(); Statement s = c.createStatement()) {
                s.execute("create database " + name);
            }
            Migrations.apply(database(name));
            try (Connection c = database(name).open(); Statement s = c.createStatement()) {
                s.execute("insert into fake_json_request (stage) select jsonb_build_object('application_id', i,"
                        + " 'phones', jsonb_build_array(jsonb_build_object('mobile', i::text)))"
                        + " from generate_series(1, 250) i");
            }
        }
        try (Connection c = database("postgres").open(); Statement s = c.createStatement()) {
            s.execute("create extension pg_cron");
            // The README's job, as written there but every minute; and the same CALL with a second statement.
            s.execute("select cron.schedule_in_database('incremental-loader', '* * * * *', 'call load_pending(100)',"
                    + " 'readme')");
            s.execute("select cron.schedule_in_database('two-statements', '* * * * *',"
                    + " 'call load_pending(100); select 1', 'two_statements')");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (count(s, "select count(*) from cron.job_run_details where status in ('succeeded', 'failed')") < 2) {
                assertTrue(System.nanoTime() < deadline, "pg_cron ran no job within 150 s");
                Thread.sleep(1000);
            }
            assertEquals(1, count(s, "select count(*) from cron.job_run_details d join cron.job j using (jobid)"
                    + " where j.jobname = 'incremental-loader' and d.status = 'succeeded'"));
            assertEquals(1, count(s, "select count(*) from cron.job_run_details d join cron.job j using (jobid)"
                    + " where j.jobname = 'two-statements' and d.status = 'failed'"
                    + " and d.return_message like '%invalid transaction termination%'"));
        }
        try (Connection c = database("readme").open(); Statement s = c.createStatement()) {
            assertEquals(250, count(s, "select count(*) from test_mv.clients"));
            assertEquals(count(s, "select count(*) from test_mv.load_batches"),
                    count(s, "select count(distinct xmin::text) from test_mv.load_batches"), "each batch committed alone");
        }
        try (Connection c = database("two_statements").open(); Statement s = c.createStatement()) {
            assertEquals(0, count(s, "select count(*) from test_mv.clients"), "the failed job's batches rolled back");
        }
    }

    private static long count(Statement s, String sql) throws Exception {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    private static void asPostgres(String... command) throws Exception {
        String[] full = new String[command.length + 4];
        full[0] = "runuser";
        full[1] = "-u";
        full[2] = "postgres";
        full[3] = "--";
        System.arraycopy(command, 0, full, 4, command.length);
        run(full);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), () -> String.join(" ", command) + ": " + output);
    }
}
