package io.incrementalloader.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules (src/main/prometheus/alerts.yml) are valid, and fire, and stay silent, as their unit tests
 * (src/test/prometheus/alerts-test.yml) say: among them, a database that does not answer, whose gauges read NaN.
 * promtool comes from Debian's prometheus package, which .ci/run installs: required in CI, skipped elsewhere.
 */
class AlertRulesTest {
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    private static String promtool(Path dir, String... args) throws Exception {
        if (!Files.isExecutable(PROMTOOL)) {
            assertTrue(System.getenv("CI") == null, "promtool is missing: .ci/run installs the prometheus package");
            Assumptions.abort("promtool is not installed");
        }
        Process process = new ProcessBuilder(concat(PROMTOOL.toString(), args)).directory(dir.toFile())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    private static List<String> concat(String first, String... rest) {
        List<String> all = new java.util.ArrayList<>(List.of(first));
        all.addAll(List.of(rest));
        return all;
    }

    @Test
    void the_shipped_rules_are_valid_and_pass_their_unit_tests() throws Exception {
        Path project = Path.of("").toAbsolutePath();
        String checked = promtool(project, "check", "rules", "src/main/prometheus/alerts.yml");
        assertTrue(checked.contains("SUCCESS: 8 rules found"), checked);
        String tested = promtool(project.resolve("src/test/prometheus"), "test", "rules", "alerts-test.yml");
        assertTrue(tested.contains("SUCCESS"), tested);
    }
}
