package io.incrementalloader.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Migrations;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * serve's HTTP endpoints, on the JDK's own server: /metrics (Prometheus' text format), /health/live and
 * /health/ready (JSON, 200 or 503).
 *
 * <p>Live: the process and its scheduler thread are alive; nothing else, since restarting the process would not
 * bring a database back. Ready: the database answers, its schema is migrated, and the last runs did not all fail
 * (fewer than {@code failedRunsNotReady} failed in a row).
 */
public final class MonitoringServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SCHEMA_FRESH_NANOS = 30_000_000_000L;
    /**
     * A client has this long to send its request and to take the response; then the JDK's server closes its
     * connection. Read once, when the server's class is first loaded: set before it is. A request that never ends
     * its headers holds one thread of the pool until then, never the probes' (the pool grows for them).
     */
    static final int CLIENT_SECONDS = 5;
    private static final int MAX_THREADS = 64;

    static {
        System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime",
                String.valueOf(CLIENT_SECONDS)));
        System.setProperty("sun.net.httpserver.maxRspTime", System.getProperty("sun.net.httpserver.maxRspTime",
                String.valueOf(CLIENT_SECONDS)));
    }

    private final HttpServer server;
    private final ServiceMetrics metrics;
    private final DatabaseState database;
    private final ConnectionSettings settings;
    private final BooleanSupplier schedulerAlive;
    private final int failedRunsNotReady;
    private String schema;
    private long schemaReadAt;

    /** Listens on {@code host} (an address or name; loopback unless an operator says otherwise) and {@code port}. */
    public MonitoringServer(String host, int port, ServiceMetrics metrics, DatabaseState database,
                            ConnectionSettings settings, BooleanSupplier schedulerAlive, int failedRunsNotReady)
            throws IOException {
        this.metrics = metrics;
        this.database = database;
        this.settings = settings;
        this.schedulerAlive = schedulerAlive;
        this.failedRunsNotReady = failedRunsNotReady;
        server = HttpServer.create(new InetSocketAddress(host, port), 0);
        // One context for every path: the JDK matches contexts by prefix, so /metricsx or /health/live/x would
        // otherwise be answered as if they were the endpoints.
        server.createContext("/", this::route);
        server.setExecutor(new ThreadPoolExecutor(2, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                task -> {
                    Thread thread = new Thread(task, "http");
                    thread.setDaemon(true);
                    return thread;
                }));
        server.start();
    }

    private void route(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/metrics") && !path.equals("/health/live") && !path.equals("/health/ready")) {
                respond(exchange, 404, "text/plain; charset=utf-8", "Not found: /metrics, /health/live, /health/ready\n");
                return;
            }
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", "Method not allowed: GET or HEAD\n");
                return;
            }
            switch (path) {
                case "/metrics" -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
                case "/health/live" -> health(exchange, live());
                default -> health(exchange, ready());
            }
        }
    }

    /** Where the server listens, as a URL's authority (host:port). */
    public String address() {
        InetSocketAddress address = server.getAddress();
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private Map<String, Object> live() {
        Map<String, Object> checks = new LinkedHashMap<>();
        checks.put("scheduler", schedulerAlive.getAsBoolean() ? "running" : "stopped");
        return verdict(schedulerAlive.getAsBoolean(), checks);
    }

    private Map<String, Object> ready() {
        Map<String, Object> checks = new LinkedHashMap<>();
        DatabaseState.Reading reading = database.read();
        checks.put("database", reading.up() ? "answers" : "does not answer: " + reading.error());
        boolean up = reading.up();
        String schemaState = up ? schema() : "unknown";
        checks.put("schema", schemaState);
        boolean runsFine = reading.consecutiveFailures() < failedRunsNotReady;
        checks.put("runs", reading.consecutiveFailures() + " failed in a row (not ready at " + failedRunsNotReady + ")");
        return verdict(up && "migrated".equals(schemaState) && runsFine, checks);
    }

    /** Whether the schema is migrated, asked of Flyway at most every 30 s. */
    private synchronized String schema() {
        long now = System.nanoTime();
        if (schema == null || now - schemaReadAt > SCHEMA_FRESH_NANOS || !"migrated".equals(schema)) {
            try {
                int pending = Migrations.pending(settings);
                schema = pending == 0 ? "migrated" : pending + " migration(s) pending";
            } catch (RuntimeException e) {
                schema = "unknown: " + e.getMessage();
            }
            schemaReadAt = now;
        }
        return schema;
    }

    private static Map<String, Object> verdict(boolean up, Map<String, Object> checks) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        body.put("checks", checks);
        return body;
    }

    private static void health(HttpExchange exchange, Map<String, Object> body) throws IOException {
        respond(exchange, "UP".equals(body.get("status")) ? 200 : 503, "application/json",
                JSON.writeValueAsString(body));
    }

    private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
