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
    void serve_blocked_on_the_positions_a_dba_holds_stops_on_sigterm_within_10_seconds() throws Exception {
        db.landNumbered(10);
        try (Connection dba = db.connect(); Statement statement = dba.createStatement()) {
            dba.setAutoCommit(false);
            // What a migration takes (V009, V011): no batch can lock a lane's row meanwhile.
            statement.execute("lock table test_mv.load_metadata in exclusive mode");
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
    void a_run_that_waits_too_long_for_the_positions_fails_naming_the_session_that_holds_them() throws Exception {
        db.landNumbered(10);
        try (Connection dba = db.connect(); Statement statement = dba.createStatement()) {
            statement.execute("set application_name = 'dba-in-psql'");
            dba.setAutoCommit(false);
            statement.execute("lock table test_mv.load_metadata in exclusive mode");
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
    void a_lane_a_dba_holds_is_left_to_the_dba_and_the_other_lanes_are_loaded() throws Exception {
        db.landNumbered(2_000);
        try (Connection dba = db.connect(); Statement statement = dba.createStatement()) {
            dba.setAutoCommit(false);
            statement.execute("select * from test_mv.load_metadata where lane = 3 for update"); // a DBA's open CALL
            assertEquals(RunOutcome.DONE, new LoadRun(db.settings(), 100, () -> false).get());
            assertEquals(0, db.count("select count(*) from test_mv.clients where test_mv.document_lane("
                    + "(select document_key from fake_json_request r where r.id = client_id)) = 3"), "lane 3 waits for its holder");
            assertEquals(db.count("select count(*) from fake_json_request where test_mv.document_lane(document_key) <> 3"),
                    db.count("select count(*) from test_mv.clients"), "every other lane is loaded, without waiting");
            dba.rollback();
        }
        assertEquals(RunOutcome.DONE, new LoadRun(db.settings(), 100, () -> false).get());
        assertEquals(2_000, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void two_instances_of_serve_with_two_workers_each_load_one_backlog_together_a_lane_held_by_one_at_a_time()
            throws Exception {
        db.landGenerated(15, 20_000, 0.1, 0.02);
        List<Process> instances = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            instances.add(serve("workers-" + i, "--interval", "1s", "--workers", "2"));
        }
        Waiting.until(() -> db.count("select count(*) from test_mv.pending() where documents = 0") == 1
                && db.count("select count(*) from test_mv.run_checks where first_batch_id is not null") >= 2, 120);
        for (Process instance : instances) {
            instance.destroy();
            assertTrue(instance.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, instance.exitValue(), () -> log(instance));
        }
        // A lane held by one caller at a time: each batch of a lane starts where the lane's previous batch ended.
        // Two callers holding a lane at once would have started from the same position, and taken the same
        // documents: the chain would fork, and the documents would be taken twice.
        assertEquals(0, db.count("select count(*) from (select from_xid, from_request_id, lag(to_xid) over w as"
                + " previous_xid, lag(to_request_id) over w as previous_id from test_mv.load_batches where kind = 'load'"
                + " window w as (partition by lane order by batch_id)) b where previous_id is not null"
                + " and (from_xid, from_request_id) <> (previous_xid, previous_id)"), "an unbroken chain a lane");
        assertEquals(20_000, db.count("select sum(taken) from test_mv.load_batches"), "no document taken twice");
        assertEquals(20_000, db.count("select (select count(*) from test_mv.clients) + (select count(*) from"
                + " test_mv.load_errors) + (select count(*) from test_mv.load_duplicates)"), "every document an outcome");
        // Both instances took part, with both their workers: four sessions wrote batches.
        assertTrue(db.count("select count(distinct caller) from test_mv.load_batches") >= 4,
                () -> db.query("select caller, count(*) from test_mv.load_batches group by caller").toString());
        String logs = log(instances.get(0)) + log(instances.get(1));
        assertTrue(logs.contains("2 workers"), logs);
        assertTrue(!logs.contains("DIFFERENT") && !logs.contains("run failed"), logs);
    }

    @Test
    void a_database_that_goes_away_fails_the_run_without_crashing_the_service() throws Exception {
        db.landNumbered(10);
        Process instance = serve("goes-away", "--interval", "1s", "--retry-delay", "1s");
        String database = (String) db.queryOne("select current_database()");
        try (java.sql.Connection admin = db.settings().withDatabase("postgres").open();
             java.sql.Statement s = admin.createStatement()) {
            Waiting.until(() -> log(instance).contains("run done: "), 60);
            s.execute("alter database " + database + " allow_connections false");
            try {
                s.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = '" + database + "'");
                Waiting.until(() -> log(instance).contains("run failed: "), 30);
                assertTrue(instance.isAlive(), () -> log(instance));
            } finally {
                s.execute("alter database " + database + " allow_connections true");
            }
            // Back: the next runs load what lands, with no restart.
            db.landNumbered(100, 10);
            Waiting.until(() -> db.count("select count(*) from test_mv.clients") == 20, 30);
            assertTrue(instance.isAlive(), () -> log(instance));
        } finally {
            instance.destroy();
            assertTrue(instance.waitFor(10, TimeUnit.SECONDS));
        }
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
        JsonNode run = lines.stream().filter(l -> l.path("message").asText().startsWith("run done: "))
                .findFirst().orElseThrow(() -> new AssertionError(log(instance)));
        assertEquals("INFO", run.path("level").asText());
        assertEquals("io.incrementalloader.serve", run.path("logger").asText());
        assertTrue(java.time.Instant.parse(run.path("time").asText()) != null, run::toString);
        assertRunFigures(run, 250);
    }

    /** A run's figures are top-level fields with their JSON types: a collector can sum and filter them. */
    static void assertRunFigures(JsonNode run, int documents) {
        for (String figure : List.of("documents", "loaded", "phones", "batches", "rejected", "duplicates", "addresses",
                "products")) {
            assertTrue(run.path(figure).isIntegralNumber(), figure + " in " + run);
        }
        assertEquals(documents, run.path("documents").asInt(), run::toString);
        assertEquals(documents, run.path("loaded").asInt(), run::toString);
        assertEquals(documents, run.path("phones").asInt(), run::toString);
        assertTrue(run.path("seconds").isNumber() && run.path("checkSeconds").isNumber(), run::toString);
        assertEquals("sound", run.path("check").asText(), run::toString);
        assertTrue(run.path("kvpList").isMissingNode(), run::toString);
    }

    @Test
    void load_with_log_format_json_logs_its_run_and_its_failure_as_typed_fields() throws Exception {
        db.landNumbered(120);
        Process load = command("load-json", "load", "--url", db.settings().url(), "--log-format", "json");
        assertTrue(load.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, load.exitValue(), () -> log(load));
        ObjectMapper json = new ObjectMapper();
        JsonNode run = null;
        for (String line : log(load).split("\n")) {
            if (line.startsWith("{")) {
                JsonNode node = json.readTree(line);
                run = node.path("message").asText().equals("run done") ? node : run;
            }
        }
        assertTrue(run != null, () -> log(load));
        assertEquals("io.incrementalloader.load", run.path("logger").asText());
        assertRunFigures(run, 120);

        db.landNumbered(1000, 5);
        db.execute("create function public.full_disk() returns trigger language plpgsql as $$ begin"
                + " raise exception 'No space left on device' using errcode = 'disk_full'; end $$;"
                + " create trigger tr_full_disk after insert on test_mv.clients for each statement"
                + " execute function public.full_disk()");
        try {
            Process failing = command("load-json-failing", "load", "--url", db.settings().url(), "--log-format", "json");
            assertTrue(failing.waitFor(60, TimeUnit.SECONDS));
            assertEquals(4, failing.exitValue(), () -> log(failing));
            JsonNode failure = null;
            for (String line : log(failing).split("\n")) {
                if (line.startsWith("{") && json.readTree(line).path("message").asText().startsWith("command failed")) {
                    failure = json.readTree(line);
                }
            }
            assertTrue(failure != null, () -> log(failing));
            assertEquals("53100", failure.path("sqlstate").asText(), failure::toString);
            assertEquals("environment", failure.path("kind").asText(), failure::toString);
            assertEquals("ERROR", failure.path("level").asText(), failure::toString);
        } finally {
            db.execute("drop trigger tr_full_disk on test_mv.clients; drop function public.full_disk()");
        }
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
