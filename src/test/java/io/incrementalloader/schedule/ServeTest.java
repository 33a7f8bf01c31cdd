package io.incrementalloader.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.Main;
import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.testing.Waiting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** serve as operators run it: real processes, real signals, one database. */
class ServeTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    private final Map<Process, Path> logs = new HashMap<>();

    @Test
    void two_instances_load_documents_landed_while_they_run_each_once_and_exit_0_on_sigterm() throws Exception {
        List<Process> instances = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            instances.add(serve("instance-" + i, "--interval", "1s", "--batch-size", "100"));
        }
        for (int t = 0; t < 50; t++) {
            db.landNumbered(t * 100, 100);
        }
        Waiting.until(() -> db.count("select count(*) from test_mv.clients") == 5_000, 60);

        for (Process instance : instances) {
            long signalled = System.nanoTime();
            instance.destroy(); // SIGTERM
            assertTrue(instance.waitFor(10, TimeUnit.SECONDS), "exits within 10 s of SIGTERM");
            assertEquals(0, instance.exitValue(), () -> log(instance));
            assertTrue(System.nanoTime() - signalled < TimeUnit.SECONDS.toNanos(10));
        }
        assertEquals(5_000, db.count("select sum(taken) from test_mv.load_batches"), "no document taken twice");
        String logs = log(instances.get(0)) + log(instances.get(1));
        assertTrue(logs.contains("run done: "), logs);
        assertTrue(logs.contains("stopped"), logs);
        // Each run that finished checked its batches, said so in its log line and kept the verdict.
        assertTrue(logs.matches("(?s).*run done: .*; checked batches \\d+-\\d+ in [0-9.]+ s \\([0-9.]+ s after the load\\): sound.*"), logs);
        assertTrue(db.count("select count(*) from test_mv.run_checks") > 0);
        assertEquals(0, db.count("select count(*) from test_mv.run_checks where verdict <> 'sound'"));
    }

    @Test
    void a_pause_stops_serve_which_says_why_and_a_resume_restarts_it() throws Exception {
        db.execute("call pause_loading('downstream migration, until 18:00')");
        Process instance = serve("paused", "--interval", "1s");
        db.landNumbered(50);
        Waiting.until(() -> log(instance).split("run paused: ", -1).length > 3, 30);
        assertTrue(log(instance).contains("run paused: loading is paused since "), () -> log(instance));
        assertTrue(log(instance).contains(": downstream migration, until 18:00; nothing taken"), () -> log(instance));
        assertEquals(0, db.count("select count(*) from test_mv.clients"), "nothing taken while paused");

        db.execute("call resume_loading()");
        Waiting.until(() -> db.count("select count(*) from test_mv.clients") == 50, 30);
        instance.destroy();
        assertTrue(instance.waitFor(10, TimeUnit.SECONDS));
        assertEquals(50, db.count("select sum(taken) from test_mv.load_batches"));
    }

    @Test
    void serve_blocked_on_a_position_a_dba_holds_stops_on_sigterm_within_10_seconds() throws Exception {
        db.landNumbered(10);
        try (Connection dba = db.connect(); Statement statement = dba.createStatement()) {
            dba.setAutoCommit(false);
            statement.execute("select * from test_mv.load_metadata for update"); // a DBA's open BEGIN; CALL load_batch
            Process instance = serve("blocked", "--interval", "1s");
            Waiting.until(() -> db.count("select count(*) from pg_stat_activity where application_name = 'incremental-loader'"
                    + " and wait_event_type = 'Lock'") == 1, 30);

            long signalled = System.nanoTime();
            instance.destroy(); // SIGTERM
            assertTrue(instance.waitFor(10, TimeUnit.SECONDS), "exits within 10 s of SIGTERM, though blocked");
            assertEquals(0, instance.exitValue(), () -> log(instance));
            assertTrue(System.nanoTime() - signalled < TimeUnit.SECONDS.toNanos(10));
            assertTrue(log(instance).contains("the batch in progress was cancelled"), () -> log(instance));
            dba.rollback();
        }
        assertEquals(0, db.count("select count(*) from test_mv.clients"), "the cancelled batch left nothing");
    }

    @Test
    void a_run_that_waits_too_long_for_the_position_fails_naming_the_session_that_holds_it() throws Exception {
        db.landNumbered(10);
        try (Connection dba = db.connect(); Statement statement = dba.createStatement()) {
            statement.execute("set application_name = 'dba-in-psql'");
            dba.setAutoCommit(false);
            statement.execute("select * from test_mv.load_metadata for update");
            Process load = command("load", "load", "--url", db.settings().url());
            assertTrue(load.waitFor(60, TimeUnit.SECONDS), "the wait is bounded");
            dba.rollback();
            assertEquals(2, load.exitValue(), () -> log(load));
            String log = log(load);
            assertTrue(log.contains("stayed locked for 30s by pid"), log);
            assertTrue(log.contains("dba-in-psql, idle in transaction"), log);
        }
    }

    @Test
    void a_run_leaves_the_work_to_an_instance_that_holds_the_lock_instead_of_queueing() throws Exception {
        db.landNumbered(10);
        try (Connection other = db.connect(); Statement statement = other.createStatement()) {
            statement.execute("select pg_advisory_lock(" + LoadRun.SERVE_LOCK_KEY + ")");
            assertEquals(RunOutcome.SKIPPED, new LoadRun(db.settings(), 100, () -> false).get());
            assertEquals(0, db.count("select count(*) from test_mv.clients"));
        }
        assertEquals(RunOutcome.DONE, new LoadRun(db.settings(), 100, () -> false).get());
        assertEquals(10, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void a_database_that_goes_away_fails_the_run_without_crashing_the_service() {
        io.incrementalloader.db.ConnectionSettings nowhere =
                new io.incrementalloader.db.ConnectionSettings("jdbc:postgresql://127.0.0.1:1/nowhere", "postgres", null, true);
        assertEquals(RunOutcome.FAILED, new LoadRun(nowhere, 100, () -> false).get());
    }

    @Test
    void an_invalid_cron_expression_is_refused_before_serving() throws Exception {
        Process process = serve("bad-cron", "--cron", "*/5 * *");
        assertTrue(process.waitFor(20, TimeUnit.SECONDS));
        assertEquals(2, process.exitValue());
        String log = log(process);
        assertTrue(log.contains("is not a 5-field cron expression"), log);
        assertTrue(!log.contains("\tat "), log);
    }

    @Test
    void with_log_format_json_every_line_is_a_json_object_and_a_run_carries_its_figures_as_fields() throws Exception {
        db.landNumbered(250);
        Process instance = serve("json", "--interval", "1s", "--log-format", "json");
        Waiting.until(() -> db.count("select count(*) from test_mv.run_checks") > 0, 60);
        instance.destroy();
        assertTrue(instance.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, instance.exitValue(), () -> log(instance));

        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : log(instance).split("\n")) {
            lines.add(json.readTree(line)); // throws on a line that is not one JSON object
        }
        JsonNode run = lines.stream().filter(l -> l.path("formattedMessage").asText().startsWith("run done: "))
                .findFirst().orElseThrow(() -> new AssertionError(log(instance)));
        assertEquals("INFO", run.path("level").asText());
        assertEquals("io.incrementalloader.serve", run.path("loggerName").asText());
        assertTrue(run.path("timestamp").isNumber(), run::toString);
        Map<String, String> fields = new HashMap<>();
        run.path("kvpList").forEach(pair -> pair.fields().forEachRemaining(f -> fields.put(f.getKey(), f.getValue().asText())));
        assertEquals("250", fields.get("documents"), run::toString);
        assertEquals("250", fields.get("loaded"), run::toString);
        assertEquals("250", fields.get("phones"), run::toString);
        assertEquals("sound", fields.get("check"), run::toString);
    }

    private Process serve(String name, String... options) throws Exception {
        List<String> arguments = new ArrayList<>(List.of("serve", "--url", db.settings().url()));
        arguments.addAll(List.of(options));
        return command(name, arguments.toArray(String[]::new));
    }

    /** The command line in a process of its own, its output in a log of its own. */
    private Process command(String name, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(arguments));
        Path log = dir.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        logs.put(process, log);
        return process;
    }

    /** What this process has written so far. */
    private String log(Process process) {
        try {
            return Files.readString(logs.get(process));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
