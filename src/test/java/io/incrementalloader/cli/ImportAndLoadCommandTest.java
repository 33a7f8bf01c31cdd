package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.Main;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** import and load from the command line: files in, rows out, and every user mistake a short message and exit 2. */
class ImportAndLoadCommandTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    Cli.Result run(String... args) {
        String[] withUrl = new String[args.length + 2];
        System.arraycopy(args, 0, withUrl, 0, args.length);
        withUrl[args.length] = "--url";
        withUrl[args.length + 1] = db.settings().url();
        return Cli.run(withUrl);
    }

    @Test
    void a_json_array_file_is_landed_and_loaded() throws Exception {
        Path file = Files.writeString(dir.resolve("docs.json"),
                "[{\"application_id\": 1, \"amount\": 1.10, \"big\": 123456789012345678901234567890},\n {\"application_id\": 2}]");
        Cli.Result imported = run("import", file.toString());
        assertEquals(0, imported.exitCode(), imported::toString);
        assertTrue(imported.out().contains("Imported 2 documents"), imported::toString);
        assertEquals(true, db.queryOne("select stage = '{\"application_id\": 1, \"amount\": 1.10,"
                + " \"big\": 123456789012345678901234567890}'::jsonb from fake_json_request where id = 1"),
                "numbers land exactly as written");

        Cli.Result loaded = run("load", "--batch-size", "1");
        assertEquals(0, loaded.exitCode(), loaded::toString);
        assertTrue(loaded.out().contains("2 documents in 2 batches (loaded 2"), loaded::toString);
        assertEquals(2, db.count("select count(*) from test_mv.clients"));
    }

    @Test
    void an_ndjson_file_is_landed_one_document_a_line_with_backslashes_and_unicode_intact() throws Exception {
        Path file = Files.writeString(dir.resolve("docs.ndjson"),
                "{\"application_id\": 1, \"s\": \"a\\\\b \\\"q\\\" \\t 日本\"}\n\n{\"application_id\": 2}\n[1]\n");
        Cli.Result imported = run("import", file.toString());
        assertEquals(0, imported.exitCode(), imported::toString);
        assertEquals(3, db.count("select count(*) from fake_json_request"));
        assertEquals("a\\b \"q\" \t 日本", db.queryOne("select stage->>'s' from fake_json_request where id = 1"));
    }

    /** K workers drain one backlog together, each batch on its own lane, and the run is checked whole. */
    @Test
    void load_with_three_workers_loads_everything_once_on_three_connections_and_checks_the_run() {
        db.landGenerated(3, 3_000, 0.1, 0.05);
        Cli.Result loaded = run("load", "--workers", "3");
        assertEquals(0, loaded.exitCode(), loaded::toString);
        assertTrue(loaded.out().contains("Loaded 3,000 documents in "), loaded::toString);
        assertTrue(loaded.out().contains("Checked: the rows are what the documents map to"), loaded::toString);
        assertEquals(3_000, db.count("select (select count(*) from test_mv.clients) + (select count(*) from"
                + " test_mv.load_errors) + (select count(*) from test_mv.load_duplicates)"));
        assertEquals(3, db.count("select count(distinct caller) from test_mv.load_batches"), "three connections");
        assertEquals(List.of(List.of(1L, db.count("select max(batch_id) from test_mv.load_batches"))),
                db.query("select first_batch_id, last_batch_id from test_mv.run_checks"), "one check of the whole run");
    }

    /** Each batch's transaction says how it commits: a trigger on the run history records the setting. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void load_commits_its_batches_asynchronously_only_when_asked(boolean asyncCommit) {
        db.landNumbered(5);
        db.execute("create table public.commit_modes (mode text);"
                + " create function test_mv.record_commit_mode() returns trigger language plpgsql as"
                + " $$ begin insert into public.commit_modes values (current_setting('synchronous_commit')); return null; end $$;"
                + " create trigger record_commit_mode after insert on test_mv.load_batches for each row"
                + " execute function test_mv.record_commit_mode()");
        try {
            Cli.Result loaded = asyncCommit ? run("load", "--batch-size", "2", "--async-commit")
                    : run("load", "--batch-size", "2");
            assertEquals(0, loaded.exitCode(), loaded::toString);
            assertEquals(List.of(List.of(db.count("select count(*) from test_mv.load_batches"), asyncCommit ? "off" : "on")),
                    db.query("select count(*), min(mode) from commit_modes having min(mode) = max(mode)"),
                    "every batch in the mode asked for");
        } finally {
            db.execute("drop trigger record_commit_mode on test_mv.load_batches;"
                    + " drop function test_mv.record_commit_mode(); drop table commit_modes");
        }
    }

    @Test
    void a_truncated_file_lands_nothing_and_says_where_it_broke() throws Exception {
        Path file = Files.writeString(dir.resolve("cut.json"), "[{\"application_id\": 1},\n{\"application_id\": 2},\n{\"applic");
        Cli.Result result = run("import", file.toString());
        assertEquals(2, result.exitCode(), result::toString);
        assertTrue(result.err().contains("line 3"), result::toString);
        assertTrue(result.err().contains("nothing was imported"), result::toString);
        assertFalse(result.err().contains("\tat "), "no stack trace");
        assertEquals(0, db.count("select count(*) from fake_json_request"));
    }

    @Test
    void invalid_json_in_the_middle_of_an_ndjson_file_lands_nothing() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.ndjson"), "{\"application_id\": 1}\n{\"application_id\": 2,}\n");
        Cli.Result result = run("import", file.toString());
        assertEquals(2, result.exitCode(), result::toString);
        assertTrue(result.err().contains("line 2, column"), result::toString);
        assertEquals(0, db.count("select count(*) from fake_json_request"));
    }

    @Test
    void a_missing_file_an_empty_file_and_an_unclosed_array_are_user_errors() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.json"), "  \n");
        Path unclosed = Files.writeString(dir.resolve("open.json"), "[{\"application_id\": 1}");
        for (String file : new String[] {dir.resolve("missing.json").toString(), empty.toString(), unclosed.toString()}) {
            Cli.Result result = run("import", file);
            assertEquals(2, result.exitCode(), result::toString);
            assertTrue(result.err().startsWith("error: "), result::toString);
            assertTrue(result.err().lines().count() <= 2, result::toString);
        }
        assertEquals(0, db.count("select count(*) from fake_json_request"));
    }

    @Test
    void a_bad_batch_size_or_an_unknown_command_is_a_short_usage_error() {
        for (String[] args : new String[][] {{"load", "--batch-size", "0"}, {"load", "--batch-size", "ten"}, {"lod"},
                {"load", "--workers", "0"}, {"load", "--workers", "17"}, {"serve", "--workers", "-1"}}) {
            Cli.Result result = run(args);
            assertEquals(2, result.exitCode(), result::toString);
            assertTrue(result.err().lines().count() <= 2, result::toString);
        }
    }

    /** generate and import stream: a file larger than the heap goes through both without running out of memory. */
    @Test
    void a_file_larger_than_the_heap_is_generated_and_imported_in_a_32_mb_heap() throws Exception {
        Path file = dir.resolve("large.json");
        assertEquals(0, inSmallHeap("generate", "--count", "150000", "--seed", "11", "--output", file.toString()));
        assertTrue(Files.size(file) > 40L << 20, "the file should outgrow the 32 MB heap: " + Files.size(file));

        assertEquals(0, inSmallHeap("import", file.toString(), "--url", db.settings().url()));

        assertEquals(150_000, db.count("select count(*) from fake_json_request"));
    }

    private int inSmallHeap(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("small-heap.log").toFile()).start();
        int exitCode = process.waitFor();
        if (exitCode != 0) {
            System.err.println(Files.readString(dir.resolve("small-heap.log")));
        }
        return exitCode;
    }

    @Test
    void every_command_answers_help_even_with_its_required_options_missing() {
        for (String command : new String[] {"migrate", "import", "load", "serve", "status", "verify", "generate", "demo", "bench"}) {
            Cli.Result result = Cli.run(command, "--help");
            assertEquals(0, result.exitCode(), result::toString);
            assertTrue(result.out().contains("Usage: incremental-loader " + command), result::toString);
        }
    }

    @Test
    void an_unreachable_database_is_a_user_error_without_a_stack_trace() {
        Cli.Result result = Cli.run("load", "--url", "jdbc:postgresql://127.0.0.1:1/nowhere");
        assertEquals(2, result.exitCode(), result::toString);
        assertTrue(result.err().contains("Cannot connect to jdbc:postgresql://127.0.0.1:1/nowhere"), result::toString);
        assertFalse(result.err().contains("\tat "), result::toString);
    }

    @Test
    void migrate_builds_a_fresh_database_and_a_second_migrate_changes_nothing() throws Exception {
        String fresh = "il_migrate_test_" + ProcessHandle.current().pid();
        db.execute("create database " + fresh);
        try {
            String url = db.settings().withDatabase(fresh).url();
            long migrations;
            try (var files = Files.list(Path.of("db", "migration"))) {
                migrations = files.filter(f -> f.getFileName().toString().endsWith(".sql")).count();
            }
            Cli.Result first = Cli.run("migrate", "--url", url);
            assertEquals(0, first.exitCode(), first::toString);
            assertEquals("Applied " + migrations + " migrations.\n", first.out());
            assertTrue(first.err().contains("migrating database " + fresh), "says which database first: " + first);
            Cli.Result second = Cli.run("migrate", "--url", url);
            assertEquals("The schema is up to date.\n", second.out());
        } finally {
            db.execute("drop database if exists " + fresh + " with (force)");
        }
    }
}
