package io.incrementalloader.cli;

import static io.incrementalloader.generated.test_mv.Tables.REJECTIONS;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.noCondition;

import io.incrementalloader.Printable;
import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import io.incrementalloader.db.Snapshot;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import org.jooq.Condition;
import org.jooq.impl.DSL;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rejections", description = "Survey the rejected documents: list them with their rule, count them by"
        + " rule, or export them as NDJSON, ready to fix and land again with import.")
final class RejectionsCommand extends DatabaseCommand {
    @Option(names = "--by-rule", description = "Count the chosen rejections by rule, with the first and last of each.")
    boolean byRule;

    @Option(names = "--export", paramLabel = "FILE", description = "Write the chosen documents to FILE, one JSON document"
            + " a line (NDJSON), as they were landed; FILE must not exist.")
    Path export;

    @Option(names = "--rule", paramLabel = "RULE", description = "Only rejections of this rule (e.g. addresses.date).")
    String rule;

    @Mixin
    RejectionFilter filter;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "Rejections listed (default 50).")
    int limit;

    @Override
    boolean readsOnly() {
        return true;
    }

    @Override
    void validate() {
        if (byRule && export != null) {
            throw new UserError("Give --by-rule or --export, not both.");
        }
        if (limit < 1) {
            throw new UserError("--limit must be at least 1, not " + limit + ".");
        }
        if (export != null && Files.exists(export)) {
            throw new UserError("The export file " + export + " exists already: name a new one.");
        }
    }

    private Condition chosen() {
        return (rule == null ? noCondition() : REJECTIONS.RULE.eq(rule))
                .and(REJECTIONS.REASON.like(filter.reasonLike))
                .and(filter.fromId == null ? noCondition() : REJECTIONS.REQUEST_ID.ge(filter.fromId))
                .and(filter.toId == null ? noCondition() : REJECTIONS.REQUEST_ID.le(filter.toId))
                .and(filter.rejectedAfter == null ? noCondition() : REJECTIONS.REJECTED_AT.ge(filter.rejectedAfter))
                .and(filter.rejectedBefore == null ? noCondition() : REJECTIONS.REJECTED_AT.lt(filter.rejectedBefore));
    }

    @Override
    int run(ConnectionSettings settings) throws Exception {
        try (Connection connection = settings.open()) {
            if (export != null) {
                return exportTo(connection);
            }
            Snapshot.read(connection, sql -> {
                if (byRule) {
                    out().printf("%-32s %8s  %-25s %-25s %s%n", "rule", "count", "first", "last", "e.g. document");
                    sql.select(REJECTIONS.RULE, count(), min(REJECTIONS.REJECTED_AT), max(REJECTIONS.REJECTED_AT),
                                    min(REJECTIONS.REQUEST_ID))
                            .from(REJECTIONS).where(chosen()).groupBy(REJECTIONS.RULE).orderBy(count().desc(), REJECTIONS.RULE)
                            .forEach(r -> out().printf("%-32s %,8d  %-25s %-25s %d%n", Printable.of(r.value1()), r.value2(),
                                    r.value3().withNano(0), r.value4().withNano(0), r.value5()));
                } else {
                    sql.selectFrom(REJECTIONS).where(chosen()).orderBy(REJECTIONS.REQUEST_ID.desc()).limit(limit)
                            .forEach(r -> out().printf("document %d  %s  %s: %s%n", r.getRequestId(),
                                    r.getRejectedAt().withNano(0), Printable.of(r.getRule()), Printable.of(r.getReason())));
                }
                return null;
            });
        }
        return 0;
    }

    /** The chosen documents, one a line, streamed in one snapshot; the file is written whole or not at all. */
    private int exportTo(Connection connection) throws Exception {
        Path partial = export.resolveSibling(export.getFileName() + ".partial");
        long written = Snapshot.read(connection, sql -> {
            long count = 0;
            try (BufferedWriter out = Files.newBufferedWriter(partial, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 var cursor = sql.select(DSL.field("{0}::text", String.class, REJECTIONS.JSON_DATA)).from(REJECTIONS)
                         .where(chosen()).orderBy(REJECTIONS.REQUEST_ID).fetchSize(1000).fetchLazy()) {
                for (var row : cursor) {
                    out.write(row.value1()); // jsonb's text has no newline: a line a document
                    out.newLine();
                    count++;
                }
            } catch (IOException e) {
                partial.toFile().delete(); // best effort: the failure to tell is the write's
                throw new UserError("Cannot write " + export + ": " + e.getMessage());
            }
            return count;
        });
        Files.move(partial, export);
        out().printf("Exported %,d rejected document(s) to %s; fix them, then land them again with: import %s%n",
                written, export, export);
        return 0;
    }
}
