package io.incrementalloader.cli;

import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.monitor.DatabaseState;
import io.incrementalloader.monitor.MonitoringServer;
import io.incrementalloader.monitor.ServiceMetrics;
import io.incrementalloader.schedule.LoadRun;
import io.incrementalloader.schedule.RunObserver;
import io.incrementalloader.schedule.Schedule;
import io.incrementalloader.schedule.Scheduler;
import java.time.Duration;
import java.time.ZoneId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(name = "serve", description = "The scheduler: a run every 5 minutes by default; stops cleanly on SIGTERM.")
final class ServeCommand extends ReportingCommand {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.serve");

    /** How long a stopping serve lets the batch in progress finish before it cancels it. */
    static final Duration STOP_GRACE = Duration.ofSeconds(3);

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--cron", paramLabel = "EXPR", description = "A 5-field cron expression (default '*/5 * * * *').")
    String cron;

    @Option(names = "--interval", paramLabel = "DURATION", description = "A run every DURATION instead (1s, 5m, ...).")
    String interval;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100", description = "Documents a batch (default 100).")
    int batchSize;

    @Option(names = "--async-commit", description = BatchOptions.ASYNC_COMMIT_DESCRIPTION)
    boolean asyncCommit;

    @Option(names = "--workers", paramLabel = "K", defaultValue = "1", description = BatchOptions.WORKERS_DESCRIPTION)
    int workers;

    @Option(names = "--retry-delay", paramLabel = "DURATION", defaultValue = "1m",
            description = "How long after a failed run its one retry comes (default 1m).")
    String retryDelay;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "Serve /metrics (Prometheus), /health/live and /health/ready on PORT (off unless given;"
                    + " 9464 is a conventional choice).")
    Integer httpPort;

    @Option(names = "--http-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "The address --http-port listens on (default 127.0.0.1, loopback only; 0.0.0.0 for every"
                    + " interface: the endpoints have no authentication).")
    String httpHost;

    @Option(names = "--not-ready-after", paramLabel = "N", defaultValue = "3",
            description = "/health/ready answers 503 once N runs in a row have failed (default 3).")
    int notReadyAfter;

    @Override
    public Integer call() throws InterruptedException {
        BatchOptions.check(batchSize);
        BatchOptions.checkWorkers(workers);
        if (cron != null && interval != null) {
            throw new UserError("Give --cron or --interval, not both.");
        }
        Schedule schedule = interval != null ? Schedule.every(Schedule.parseDuration(interval, "--interval"))
                : Schedule.cron(cron != null ? cron : "*/5 * * * *", ZoneId.systemDefault());
        Duration retry = Schedule.parseDuration(retryDelay, "--retry-delay");
        ConnectionSettings settings = connection.settings();

        if (httpPort != null && (httpPort < 0 || httpPort > 65535)) {
            throw new UserError("--http-port must be a TCP port, 0 to 65535, not " + httpPort + ".");
        }
        if (notReadyAfter < 1) {
            throw new UserError("--not-ready-after must be at least 1, not " + notReadyAfter + ".");
        }
        ServiceMetrics metrics = httpPort == null ? null : new ServiceMetrics(new DatabaseState(settings));
        RunObserver observer = metrics == null ? RunObserver.NONE : metrics;
        Scheduler scheduler = new Scheduler(schedule,
                stopping -> new LoadRun(settings, batchSize, asyncCommit, workers, stopping, observer), retry);
        // SIGTERM and Ctrl-C end the wait, or let the current batch commit, and then the process exits 0; a batch
        // that has not ended within the grace period (one blocked on a lock) is cancelled and rolls back.
        Signal.handle(new Signal("TERM"), signal -> stop(scheduler, "SIGTERM"));
        Signal.handle(new Signal("INT"), signal -> stop(scheduler, "SIGINT"));

        if (ConfigFile.read != null) {
            log.info("configuration read from {}", ConfigFile.read);
        }
        log.info("serving {}: a run {}, batches of {}{}{}", settings, schedule, batchSize,
                workers == 1 ? "" : ", " + workers + " workers", asyncCommit ? ", commits not waiting for the disk" : "");
        Thread schedulerThread = Thread.currentThread();
        try (MonitoringServer server = metrics == null ? null : startServer(metrics, settings, schedulerThread)) {
            scheduler.run(true); // a first run at start, so a restarted service catches up at once
        }
        log.info("stopped");
        return 0;
    }

    private MonitoringServer startServer(ServiceMetrics metrics, ConnectionSettings settings, Thread scheduler) {
        try {
            MonitoringServer server = new MonitoringServer(httpHost, httpPort, metrics, metrics.database(), settings,
                    scheduler::isAlive, notReadyAfter);
            log.info("metrics on http://{}/metrics, probes on /health/live and /health/ready", server.address());
            return server;
        } catch (java.io.IOException | RuntimeException e) {
            throw new UserError("Cannot serve HTTP on " + httpHost + " port " + httpPort + ": " + e.getMessage()
                    + ". Choose another --http-host or --http-port.");
        }
    }

    private static void stop(Scheduler scheduler, String signal) {
        log.info("{} received: stopping after the current batch", signal);
        scheduler.stop();
        Thread canceller = new Thread(() -> {
            try {
                Thread.sleep(STOP_GRACE.toMillis());
                scheduler.cancelRun();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stop-grace");
        canceller.setDaemon(true);
        canceller.start();
    }
}
