package io.incrementalloader.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.Main;
import io.incrementalloader.testing.TestDatabase;
import io.incrementalloader.testing.Waiting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * serve --http-port: /metrics counts what the runs did, in a format promtool accepts; /health/ready follows the
 * database, /health/live does not.
 */
class MonitoringTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void metrics_count_the_documents_landed_and_probes_follow_the_database() throws Exception {
        db.landNumbered(300);
        db.land("{\"application_id\": \"bad\"}", "{\"application_id\": 0, \"phones\": [{\"mobile\": \"00\"}]}");
        Path log = dir.resolve("serve.log");
        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--url", db.settings().url(),
                "--interval", "1s", "--http-port", "0").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            int port = port(log);
            Waiting.until(() -> db.count("select count(*) from test_mv.run_checks") > 0, 60);
            String metrics = get(port, "/metrics").body();
            assertEquals(302.0, value(metrics, "incremental_loader_documents_taken_total"), metrics);
            assertEquals(300.0, value(metrics, "incremental_loader_documents_total{outcome=\"loaded\"}"), metrics);
            assertEquals(1.0, value(metrics, "incremental_loader_documents_total{outcome=\"rejected\"}"), metrics);
            assertEquals(1.0, value(metrics, "incremental_loader_documents_total{outcome=\"duplicate\"}"), metrics);
            assertEquals(300.0, value(metrics, "incremental_loader_rows_written_total{table=\"phones\"}"), metrics);
            assertTrue(value(metrics, "incremental_loader_runs_total{outcome=\"done\"}") >= 1, metrics);
            assertEquals(0.0, value(metrics, "incremental_loader_pending_documents"), metrics);
            assertEquals(1.0, value(metrics, "incremental_loader_database_up"), metrics);
            assertTrue(value(metrics, "incremental_loader_batch_duration_seconds_count") >= 1, metrics);
            promtoolAccepts(metrics);

            // A lane a session holds shows: its lag grows, the other lanes' stay 0.
            try (Connection holder = db.connect(); Statement hold = holder.createStatement()) {
                db.execute("insert into fake_json_request (stage, landed_at) values ('{\"application_id\": 9000}',"
                        + " now() - interval '1 hour')");
                long lane = db.count("select test_mv.document_lane(document_key) from fake_json_request"
                        + " where stage = '{\"application_id\": 9000}'");
                holder.setAutoCommit(false);
                hold.execute("select * from test_mv.load_metadata where lane = " + lane + " for update");
                Waiting.until(() -> laneLag(port, lane) >= 3590, 30);
                String held = get(port, "/metrics").body();
                assertEquals(1.0, value(held, "incremental_loader_pending_documents"), held);
                assertEquals(0.0, value(held, "incremental_loader_lane_lag_seconds{lane=\"" + (lane + 1) % 16 + "\"}"), held);
                holder.rollback();
            }

            assertEquals(200, get(port, "/health/live").statusCode());
            assertEquals(200, get(port, "/health/ready").statusCode());

            // The database goes away: not ready, still live (a restart would not bring it back).
            String database = (String) db.queryOne("select current_database()");
            try (Connection admin = db.settings().withDatabase("postgres").open();
                 Statement s = admin.createStatement()) {
                s.execute("alter database " + database + " allow_connections false");
                s.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = '" + database + "'");
                try {
                    Waiting.until(() -> statusOf(port, "/health/ready") == 503, 30);
                    HttpResponse<String> ready = get(port, "/health/ready");
                    assertTrue(ready.body().contains("\"status\":\"DOWN\""), ready.body());
                    assertEquals(200, get(port, "/health/live").statusCode());
                } finally {
                    s.execute("alter database " + database + " allow_connections true");
                }
            }
            Waiting.until(() -> statusOf(port, "/health/ready") == 200, 30);
        } finally {
            serve.destroy();
            assertTrue(serve.waitFor(10, TimeUnit.SECONDS));
        }
    }

    /** promtool (Debian's prometheus package, which .ci/run installs) accepts the scrape; required in CI. */
    private static void promtoolAccepts(String metrics) throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!Files.isExecutable(promtool)) {
            assertTrue(System.getenv("CI") == null, "promtool is missing: .ci/run installs the prometheus package");
            return;
        }
        Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        check.getOutputStream().write(metrics.getBytes(StandardCharsets.UTF_8));
        check.getOutputStream().close();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, check.exitValue(), output);
    }

    private static int port(Path log) throws Exception {
        Pattern line = Pattern.compile("metrics on http://localhost:(\\d+)/metrics");
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

    private static double value(String metrics, String series) {
        List<String> found = new ArrayList<>();
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                found.add(line.substring(series.length() + 1).trim());
            }
        }
        assertEquals(1, found.size(), () -> series + " in " + metrics);
        return Double.parseDouble(found.get(0));
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private double laneLag(int port, long lane) {
        try {
            return value(get(port, "/metrics").body(), "incremental_loader_lane_lag_seconds{lane=\"" + lane + "\"}");
        } catch (Exception e) {
            return -1;
        }
    }

    private int statusOf(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
