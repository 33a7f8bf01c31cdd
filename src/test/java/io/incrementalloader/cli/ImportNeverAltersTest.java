package io.incrementalloader.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.TestDatabase;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** import lands exactly what PostgreSQL would store for the file's JSON text, or refuses the file, naming the line. */
class ImportNeverAltersTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    private static final String TWO_DOCUMENTS = "[{\"application_id\": 1, \"name\": \"Ленина 𝄞\"},\n {\"application_id\": 2}]";

    private Cli.Result importFile(Path file) {
        return Cli.run("import", file.toString(), "--url", db.settings().url());
    }

    private void assertRefusedNaming(Cli.Result result, String... words) {
        assertEquals(2, result.exitCode(), result::toString);
        for (String word : words) {
            assertTrue(result.err().contains(word), () -> "'" + word + "' in: " + result);
        }
        assertFalse(result.err().contains("\tat "), "no stack trace");
        assertEquals(0, db.count("select count(*) from fake_json_request"), "nothing lands");
    }

    @Test
    void a_lone_surrogate_escape_is_refused_naming_its_line_and_document_not_landed_as_a_question_mark() throws Exception {
        Path file = Files.writeString(dir.resolve("surrogate.json"),
                "[{\"application_id\": 1},\n{\"application_id\": 2,\n \"name\": \"x\\ud800y\"}]");
        assertRefusedNaming(importFile(file), "line 3", "document 2", "lone surrogate \\ud800");
    }

    @Test
    void a_surrogate_pair_escape_lands_as_the_character_it_stands_for() throws Exception {
        Path file = Files.writeString(dir.resolve("pair.ndjson"), "{\"application_id\": 1, \"clef\": \"\\ud834\\udd1e\"}\n");
        assertEquals(0, importFile(file).exitCode());
        assertEquals("𝄞", db.queryOne("select stage ->> 'clef' from fake_json_request"));
    }

    @Test
    void a_nul_character_is_refused_naming_its_line_in_keys_as_in_values() throws Exception {
        assertRefusedNaming(importFile(Files.writeString(dir.resolve("nul.ndjson"),
                "{\"application_id\": 1}\n{\"application_id\": 2, \"a\\u0000b\": 1}\n")), "line 2", "document 2", "\\u0000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"UTF-16BE", "UTF-16LE", "UTF-32BE", "UTF-32LE", "UTF-8"})
    void a_file_with_a_byte_order_mark_is_decoded_exactly(String encoding) throws Exception {
        Path file = dir.resolve("bom.json");
        Files.write(file, ("\uFEFF" + TWO_DOCUMENTS).getBytes(Charset.forName(encoding)));
        Cli.Result result = importFile(file);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(List.of("Ленина 𝄞"), Arrays.asList((Object) null)),
                db.query("select stage ->> 'name' from fake_json_request order by id"), "two documents, exact");
    }

    @Test
    void utf_16_without_a_byte_order_mark_is_refused_rather_than_guessed() throws Exception {
        Path file = dir.resolve("nobom.json");
        Files.write(file, TWO_DOCUMENTS.getBytes(StandardCharsets.UTF_16LE));
        assertRefusedNaming(importFile(file), "UTF-16 or UTF-32 without a byte order mark");
    }

    @Test
    void invalid_utf_8_is_refused_naming_its_line() throws Exception {
        Path file = dir.resolve("latin1.ndjson");
        Files.write(file, "{\"application_id\": 1}\n{\"application_id\": 2, \"city\": \"M\u00fcnchen\"}\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        assertRefusedNaming(importFile(file), "line 2", "document 2");
    }

    @Test
    void a_document_deeper_than_postgresql_takes_is_refused_with_a_short_message() throws Exception {
        int depth = 20_000;
        Path file = Files.writeString(dir.resolve("deep.json"),
                "{\"application_id\": 1, \"deep\": " + "[".repeat(depth) + "]".repeat(depth) + "}\n");
        assertRefusedNaming(importFile(file), "line 1", "document 1", "depth");
    }

    @Test
    void a_document_as_deep_as_postgresql_takes_lands() throws Exception {
        int depth = 5_000;
        Path file = Files.writeString(dir.resolve("deep.json"),
                "{\"application_id\": 1, \"deep\": " + "[".repeat(depth) + "]".repeat(depth) + "}\n");
        Cli.Result result = importFile(file);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(1, db.count("select count(*) from fake_json_request"));
    }

    @Test
    void a_fifo_is_refused_at_once_instead_of_waited_on() throws Exception {
        Path fifo = dir.resolve("pipe.json");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        assertRefusedNaming(importFile(fifo), "not a regular file");
    }
}
