package io.incrementalloader.cli;

import java.time.OffsetDateTime;
import picocli.CommandLine.Option;

/** Which rejections a command works on, the same for reprocess and rejections: by reason, request id and time. */
final class RejectionFilter {
    @Option(names = "--reason-like", paramLabel = "PATTERN", defaultValue = "%",
            description = "Only rejections whose reason is LIKE the pattern (default %%: all).")
    String reasonLike;

    @Option(names = "--from-id", paramLabel = "ID", description = "Only request ids from ID.")
    Long fromId;

    @Option(names = "--to-id", paramLabel = "ID", description = "Only request ids up to ID.")
    Long toId;

    @Option(names = "--rejected-after", paramLabel = "TIME", description = "Only rejections at or after TIME"
            + " (ISO-8601 with offset, e.g. 2026-12-01T00:00:00Z).")
    OffsetDateTime rejectedAfter;

    @Option(names = "--rejected-before", paramLabel = "TIME", description = "Only rejections before TIME.")
    OffsetDateTime rejectedBefore;
}
