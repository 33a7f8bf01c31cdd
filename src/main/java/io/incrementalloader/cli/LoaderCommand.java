package io.incrementalloader.cli;

import io.incrementalloader.EnvironmentFailure;
import io.incrementalloader.LogFormat;
import io.incrementalloader.Printable;
import io.incrementalloader.UserError;
import io.incrementalloader.load.RunHealth;
import io.incrementalloader.verify.RunLog;
import java.io.PrintWriter;
import java.sql.SQLException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The command line: {@code incremental-loader COMMAND [OPTIONS]}. Exit codes: 0 success, 1 a check failed
 * ({@code verify}), 2 a user error (bad option, bad file, bad connection), 3 an unexpected failure.
 */
@Command(name = "incremental-loader", mixinStandardHelpOptions = true, versionProvider = VersionInfo.class,
        scope = ScopeType.INHERIT, // every subcommand answers --help, even when its required options are missing
        description = "Loads landed JSON documents into test_mv's tables, incrementally and exactly once.",
        subcommands = {MigrateCommand.class, ImportCommand.class, LoadCommand.class, ServeCommand.class,
                StatusCommand.class, PauseCommand.class, ResumeCommand.class, ReprocessCommand.class,
                RejectCommand.class, RejectionsCommand.class, ReloadCommand.class, PruneCommand.class, VerifyCommand.class, GenerateCommand.class, DemoCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class LoaderCommand implements Runnable {
    public static final int CHECK_FAILED = 1;
    public static final int USER_ERROR = 2;
    public static final int UNEXPECTED = 3;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Show stack traces of failures.")
    boolean verbose;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Read option values from FILE (Java properties, keys as the options without their dashes;"
                    + " default " + ConfigFile.STANDARD_PLACE + " when it exists). Flags win over it.")
    java.nio.file.Path config;

    @Option(names = "--log-format", scope = ScopeType.INHERIT, paramLabel = "FORMAT", defaultValue = "text",
            description = "Log lines as text (default) or json: one JSON object a line, the figures as fields.")
    LogFormat logFormat;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command.");
    }

    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(new LoaderCommand());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        try {
            ConfigFile file = ConfigFile.find(args, commandLine);
            if (file != null) {
                commandLine.setDefaultValueProvider(file);
            }
            ConfigFile.read = file == null ? null : file.path();
        } catch (UserError e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return USER_ERROR;
        }
        commandLine.setExecutionStrategy(parsed -> {
            logFormat(parsed).apply();
            return new CommandLine.RunLast().execute(parsed);
        });
        commandLine.setParameterExceptionHandler((e, parameters) -> {
            err.println("error: " + e.getMessage());
            err.println("Run 'incremental-loader " + commandPath(e.getCommandLine()) + "--help' for usage.");
            return USER_ERROR;
        });
        commandLine.setExecutionExceptionHandler((e, command, parsed) -> {
            boolean verbose = parsed.matchedOptionValue("--verbose", false)
                    || parsed.subcommands().stream().anyMatch(s -> s.matchedOptionValue("--verbose", false));
            if (verbose) {
                e.printStackTrace(err);
            }
            if (LogFormat.active() == LogFormat.JSON) {
                // One JSON line for collectors, with the failure's SQLSTATE and kind, beside the line for people.
                RunLog.withFailure(LoggerFactory.getLogger("io.incrementalloader.command").atError(), e)
                        .log("command failed: {}", RunHealth.message(e));
            }
            if (e instanceof UserError) {
                err.println("error: " + e.getMessage());
                return USER_ERROR;
            }
            if (e instanceof EnvironmentFailure) {
                err.println("error: " + e.getMessage());
                return EnvironmentFailure.EXIT_CODE;
            }
            SQLException connection = withSqlState(e, "08");
            if (connection != null) {
                err.println("error: the database connection failed: " + connection.getMessage());
                return USER_ERROR;
            }
            SQLException denied = withSqlState(e, "42501");
            if (denied != null) {
                err.println("error: " + Printable.firstLine(denied.getMessage()).replaceFirst("^ERROR: ", "")
                        + ". The role needs the grants the README lists"
                        + " (Roles and privileges) for this command.");
                return USER_ERROR;
            }
            java.util.Optional<String> environment = EnvironmentFailure.describe(e);
            if (environment.isPresent()) {
                err.println("error: " + environment.get());
                return EnvironmentFailure.EXIT_CODE;
            }
            // A bug: what failed, on one line; the SQL that was running, if any, only with --verbose.
            err.println("error: " + e.getClass().getName() + ": " + Printable.firstLine(e.getMessage())
                    + (verbose ? "" : " (run with --verbose for details)"));
            return UNEXPECTED;
        });
        try {
            return commandLine.execute(args);
        } finally {
            // The writers buffer; main exits right after this, and an unflushed report would be lost.
            out.flush();
            err.flush();
        }
    }

    /** The --log-format given to the command or any of its subcommands; TEXT when none was. */
    private static LogFormat logFormat(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption("--log-format")) {
                return level.matchedOptionValue("--log-format", LogFormat.TEXT);
            }
        }
        return LogFormat.TEXT;
    }

    /**
     * The SQLException behind a failure whose SQLSTATE starts with {@code state} (a class such as 08, connection
     * failures, or a code such as 42501, permission denied), however deeply jOOQ or Flyway wrapped it; or null.
     */
    private static SQLException withSqlState(Throwable e, String state) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith(state)) {
                return sql;
            }
        }
        return null;
    }

    private static String commandPath(CommandLine commandLine) {
        String path = commandLine.getCommandSpec().qualifiedName(" ");
        path = path.startsWith("incremental-loader") ? path.substring("incremental-loader".length()).trim() : path;
        return path.isEmpty() ? "" : path + " ";
    }
}
