package io.incrementalloader.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading what a `serve` started by a test says: its metrics port (from its log), and one series of a scrape. */
public final class Metrics {
    private Metrics() {
    }

    /** The port serve's log says its metrics listen on; waits up to a minute for the line. */
    public static int port(Path log) throws Exception {
        Pattern line = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = line.matcher(Files.readString(log));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("serve did not say its port: " + Files.readString(log));
    }

    /** The value of the one sample of {@code series} (name and labels, as written) in a scrape. */
    public static double value(String metrics, String series) {
        List<String> found = new ArrayList<>();
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                found.add(line.substring(series.length() + 1).trim());
            }
        }
        assertEquals(1, found.size(), () -> series + " in " + metrics);
        return Double.parseDouble(found.get(0));
    }
}
