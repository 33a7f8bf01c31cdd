package io.incrementalloader.cli;

import io.incrementalloader.UserError;
import io.incrementalloader.bench.Benchmark;
import io.incrementalloader.bench.CitusBench;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.bench.RetentionBench;
import io.incrementalloader.bench.StatusAtScale;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Measure load_batch against the floor, a client-side peer and the naive "
        + "reference, in a scratch database it drops and recreates; prints a table.")
final class BenchCommand extends ReportingCommand {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--documents", paramLabel = "N", defaultValue = "100000", description = "Documents (default 100000).")
    int documents;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "3", description = "Runs of each scenario (default 3).")
    int runs;

    @Option(names = "--batch-sizes", paramLabel = "N,N", split = ",", defaultValue = "100,1000,10000",
            description = "load_batch sizes to measure (default 100,1000,10000).")
    List<Integer> batchSizes;

    @Option(names = "--loader-only", description = "Measure the floor and load_batch only, not the peer, the naive"
            + " reference, COPY and import (a quicker run while working on the loader).")
    boolean loaderOnly;

    @Option(names = "--workers", paramLabel = "K,K", split = ",", defaultValue = "1",
            description = "Also measure K concurrent callers of load_batch at the smallest batch size, for each K above 1"
                    + " (e.g. 1,2,4), with what their backends wait for.")
    List<Integer> workers;

    @Option(names = "--database", paramLabel = "NAME", defaultValue = "incremental_loader_bench",
            description = "The scratch database, dropped and recreated on the same server (default"
                    + " incremental_loader_bench); a database of that name that bench did not create is never dropped.")
    String database;

    @Option(names = "--status-at", paramLabel = "N,N", split = ",",
            description = "Instead of the loader's scenarios: what status, status --json and a scrape cost with N"
                    + " landed documents, for each N (e.g. 10000,1000000,10000000).")
    List<Integer> statusAt;

    @Option(names = "--retention-at", paramLabel = "N", description = "Instead of the loader's scenarios: pruning N"
            + " loaded documents by batched DELETE beside a load, and by dropping a partition (docs/retention.md).")
    Integer retentionAt;

    @Option(names = "--citus", paramLabel = "URL", description = "Instead of the loader's scenarios: loading on the Citus"
            + " cluster whose coordinator database URL names (the citus extension and its workers there) against the"
            + " same work on the server of --url, at each batch size, with 1, 2 and 4 callers (or --workers);"
            + " a scratch database (--database) on every node of the cluster, as on the server.")
    String citus;

    @Override
    public Integer call() throws Exception {
        if (retentionAt != null) {
            if (retentionAt < 1) {
                throw new UserError("--retention-at takes a positive document count, like 1000000.");
            }
            new RetentionBench(connection.settings(), database, retentionAt, out()).run();
            return 0;
        }
        if (statusAt != null && statusAt.stream().anyMatch(n -> n < 1)) {
            throw new UserError("--status-at takes positive document counts, like 10000,1000000.");
        }
        if (documents < 1 || runs < 1 || batchSizes.stream().anyMatch(b -> b < 1) || workers.stream().anyMatch(k -> k < 1)) {
            throw new UserError("--documents, --runs, --batch-sizes and --workers must be positive.");
        }
        if (!database.matches("[a-z_][a-z0-9_]*")) {
            throw new UserError("--database must be a plain lower-case name, not '" + database + "'.");
        }
        if (citus != null) {
            List<Integer> callers = workers.equals(List.of(1)) ? List.of(1, 2, 4) : workers;
            ConnectionSettings server = connection.settings();
            new CitusBench(server, new ConnectionSettings(citus, server.user(), server.password(), true), database,
                    documents, runs, batchSizes, callers, out()).run();
            return 0;
        }
        if (statusAt != null) {
            new StatusAtScale(connection.settings(), database, statusAt, out()).run();
            return 0;
        }
        new Benchmark(connection.settings(), database, documents, runs, batchSizes, loaderOnly, workers, out()).run();
        return 0;
    }
}
