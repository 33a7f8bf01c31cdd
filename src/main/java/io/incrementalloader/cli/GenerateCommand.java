package io.incrementalloader.cli;

import io.incrementalloader.UserError;
import io.incrementalloader.generate.DocumentGenerator;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", description = "Write N documents of the contract's shape as a JSON array.")
final class GenerateCommand extends ReportingCommand {
    @Option(names = "--count", required = true, paramLabel = "N", description = "How many documents.")
    long count;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "The same seed gives the same file (default 1).")
    long seed;

    @Option(names = "--output", paramLabel = "FILE", description = "Where to write (default: standard output).")
    Path output;

    @Option(names = "--duplicates", paramLabel = "SHARE", defaultValue = "0",
            description = "Share of documents that repeat an earlier one, keys reordered (0 to 1, default 0).")
    double duplicates;

    @Option(names = "--malformed", paramLabel = "SHARE", defaultValue = "0",
            description = "Share of malformed documents, every kind in turn (0 to 1, default 0).")
    double malformed;

    @Override
    public Integer call() throws IOException {
        if (count < 0) {
            throw new UserError("--count must be zero or more, not " + count + ".");
        }
        // Written so that NaN fails it too: every comparison with NaN is false.
        if (!(duplicates >= 0 && malformed >= 0 && duplicates + malformed <= 1)) {
            throw new UserError("--duplicates and --malformed are shares between 0 and 1 whose sum is at most 1.");
        }
        DocumentGenerator generator = new DocumentGenerator(seed, duplicates, malformed);
        if (output == null) {
            OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
            generator.write(count, out);
            out.flush();
            return 0;
        }
        if (Files.isDirectory(output)) {
            throw new UserError(output + " is a directory; give --output a file's path.");
        }
        if (output.getParent() != null && !Files.isDirectory(output.getParent())) {
            throw new UserError("The folder of " + output + " does not exist; create it or choose another --output.");
        }
        DocumentGenerator.Written written;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(output), 1 << 16)) {
            written = generator.write(count, out);
        }
        err().printf("Wrote %,d documents (%,d duplicates, %,d malformed) to %s.%n",
                written.documents(), written.duplicates(), written.malformed(), output);
        return 0;
    }
}
