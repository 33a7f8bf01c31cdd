package io.incrementalloader.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.incrementalloader.testing.Metrics.port;
import static io.incrementalloader.testing.Metrics.value;

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
            assertEquals(1.0, value(metrics, "incremental_loader_rejections{rule=\"application_id\"}"), metrics);
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

    /**
     * The probes listen on loopback unless told otherwise, answer whatever slow clients do (ten connections that
     * never end their headers), and answer only their own paths and methods.
     */
    @Test
    void the_probes_listen_on_loopback_and_answer_while_slow_clients_hang() throws Exception {
        Path log = dir.resolve("serve-probes.log");
        Process serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--url", db.settings().url(),
                "--interval", "1h", "--http-port", "0").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        List<java.net.Socket> slow = new ArrayList<>();
        try {
            int port = port(log);
            for (int i = 0; i < 10; i++) {
                java.net.Socket socket = new java.net.Socket("127.0.0.1", port);
                socket.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            HttpClient quick = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();
            // Liveness reads nothing: it answers at once, well before the slow clients are cut off (5 s). The others
            // read the database, which may take its time on a busy machine.
            for (String path : List.of("/health/live", "/health/ready", "/metrics")) {
                HttpResponse<String> answer = quick.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(java.time.Duration.ofSeconds(path.equals("/health/live") ? 2 : 15)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, answer.statusCode(), path + ": " + answer.body());
            }
            assertEquals(404, statusOf(port, "/metricsx"));
            assertEquals(404, statusOf(port, "/health/live/x"));
            assertEquals(405, quick.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            // The slow clients are let go after the server's bound, not kept for ever.
            Waiting.until(() -> slow.stream().allMatch(MonitoringTest::closedByServer), 20);
            // Loopback only: the server is not reachable on this machine's other addresses.
            for (java.net.InetAddress other : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())
                    .stream().flatMap(n -> java.util.Collections.list(n.getInetAddresses()).stream())
                    .filter(a -> !a.isLoopbackAddress()).toList()) {
                try (java.net.Socket probe = new java.net.Socket()) {
                    probe.connect(new java.net.InetSocketAddress(other, port), 1000);
                    throw new AssertionError("reachable on " + other);
                } catch (java.io.IOException refused) {
                    // as it should be
                }
            }
        } finally {
            for (java.net.Socket socket : slow) {
                socket.close();
            }
            serve.destroy();
            assertTrue(serve.waitFor(10, TimeUnit.SECONDS));
        }
    }

    private static boolean closedByServer(java.net.Socket socket) {
        try {
            socket.setSoTimeout(100);
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (java.io.IOException reset) {
            return true;
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

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
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
