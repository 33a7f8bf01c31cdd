package io.incrementalloader.testing;

import io.incrementalloader.cli.LoaderCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/**
 * Runs the command line in this JVM, as a user would type it, and captures what it says: the commands report
 * through picocli's writers, given here; System.err is captured too, for the log lines (a migration named before
 * it runs, serve's runs), which go there through the logger.
 */
public final class Cli {
    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    private Cli() {
    }

    public static synchronized Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintStream originalErr = System.err;
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        try (PrintStream capturedLogs = new PrintStream(logs, true, StandardCharsets.UTF_8)) {
            System.setErr(capturedLogs);
            int exitCode = LoaderCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Result(exitCode, out.toString(), logs.toString(StandardCharsets.UTF_8) + err);
        } finally {
            System.setErr(originalErr);
        }
    }
}
