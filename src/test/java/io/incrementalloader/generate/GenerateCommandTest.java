package io.incrementalloader.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.testing.Cli;
import io.incrementalloader.testing.ReferenceDecomposition;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate writes documents that pass the contract, the same ones for the same seed. */
class GenerateCommandTest {
    @TempDir
    Path dir;

    @Test
    void a_thousand_documents_for_seed_7_all_pass_the_contract() throws Exception {
        Path file = dir.resolve("docs.json");
        Cli.Result result = Cli.run("generate", "--count", "1000", "--seed", "7", "--output", file.toString());
        assertEquals(0, result.exitCode(), result::toString);
        JsonNode documents = new ObjectMapper().readTree(file.toFile());
        assertEquals(1000, documents.size());
        Set<String> distinct = new HashSet<>();
        for (JsonNode document : documents) {
            assertNull(ReferenceDecomposition.problemField(document), document::toString);
            distinct.add(document.toString());
        }
        assertEquals(1000, distinct.size(), "no duplicates unless asked for");
    }

    @Test
    void the_same_seed_gives_the_same_bytes_and_another_seed_other_ones() throws Exception {
        assertArrayEquals(generate(5, 0.1, 0.1), generate(5, 0.1, 0.1));
        assertTrue(!java.util.Arrays.equals(generate(5, 0.1, 0.1), generate(6, 0.1, 0.1)));
    }

    @Test
    void duplicates_and_malformed_documents_are_mixed_in_as_asked() throws Exception {
        JsonNode documents = new ObjectMapper().readTree(generate(3, 0.1, 0.1));
        int malformed = 0;
        Set<JsonNode> seen = new HashSet<>();
        int repeated = 0;
        for (JsonNode document : documents) {
            if (ReferenceDecomposition.problemField(document) != null) {
                malformed++;
            } else if (!seen.add(document)) {
                repeated++;
            }
        }
        assertTrue(malformed > 150 && malformed < 250, "malformed: " + malformed);
        assertTrue(repeated > 150 && repeated < 250, "duplicates: " + repeated);
    }

    @Test
    void a_bad_share_or_a_missing_folder_is_a_user_error() {
        assertEquals(2, Cli.run("generate", "--count", "1", "--malformed", "1.5").exitCode());
        assertEquals(2, Cli.run("generate", "--count", "1", "--output", dir.resolve("no/such/dir/f.json").toString()).exitCode());
        assertEquals(2, Cli.run("generate").exitCode());
    }

    private static byte[] generate(long seed, double duplicates, double malformed) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new DocumentGenerator(seed, duplicates, malformed).write(2000, out);
        return out.toByteArray();
    }

}
