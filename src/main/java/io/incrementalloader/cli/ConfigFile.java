package io.incrementalloader.cli;

import io.incrementalloader.UserError;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The configuration file: Java properties, one key an option, named as the option without its dashes ({@code
 * batch-size = 1000}, {@code url = jdbc:postgresql://db:5432/app}), for every command that takes it, or for one
 * command alone, prefixed with its name ({@code serve.interval = 1m}). Read from {@code --config FILE}, else from
 * {@value #STANDARD_PLACE} when it exists. A flag beats the file, the file beats the environment (LOADER_DB_*) and the
 * defaults. Secrets only by reference: {@code password-file}, or LOADER_DB_PASSWORD in the environment; an inline
 * {@code password}, like a key no option has, is refused (exit 2).
 */
final class ConfigFile implements IDefaultValueProvider {
    static final String STANDARD_PLACE = "/etc/incremental-loader/loader.conf";

    /** The file this process read its defaults from, if any: serve says so. */
    static volatile Path read;

    private final Path path;
    private final Properties values;

    private ConfigFile(Path path, Properties values) {
        this.path = path;
        this.values = values;
    }

    /** The file named by --config in the arguments, or the standard place's; null when there is none. */
    static ConfigFile find(String[] args, CommandLine commandLine) {
        Path path = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                path = Path.of(args[i + 1]);
            } else if (args[i].startsWith("--config=")) {
                path = Path.of(args[i].substring("--config=".length()));
            }
        }
        if (path == null) {
            Path standard = Path.of(STANDARD_PLACE);
            if (!Files.isRegularFile(standard)) {
                return null;
            }
            path = standard;
        }
        Properties values = new Properties();
        try (Reader reader = Files.newBufferedReader(path)) {
            values.load(reader);
        } catch (IOException e) {
            throw new UserError("Cannot read the configuration file " + path + ": " + e.getMessage());
        }
        ConfigFile file = new ConfigFile(path, values);
        file.check(commandLine.getCommandSpec());
        return file;
    }

    Path path() {
        return path;
    }

    /** Every key must be an option some command has (or that command's); a password is never written inline. */
    private void check(CommandSpec root) {
        Set<String> known = new HashSet<>();
        for (CommandLine sub : root.subcommands().values()) {
            for (OptionSpec option : sub.getCommandSpec().options()) {
                String key = key(option);
                if (key != null) {
                    known.add(key);
                    known.add(sub.getCommandName() + "." + key);
                }
            }
        }
        known.remove("config");
        for (String key : values.stringPropertyNames()) {
            if (key.equals("password") || key.endsWith(".password")) {
                throw new UserError("The configuration file " + path + " holds a password inline (" + key + "): refer to"
                        + " it instead, with password-file = FILE or LOADER_DB_PASSWORD in the environment.");
            }
            if (!known.contains(key)) {
                throw new UserError("The configuration file " + path + " has the key '" + key + "', which no option"
                        + " has. Keys are options without their dashes (batch-size), or COMMAND.option (serve.interval).");
            }
        }
    }

    private static String key(OptionSpec option) {
        String longest = option.longestName();
        return longest.startsWith("--") ? longest.substring(2) : null;
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (!(argSpec instanceof OptionSpec option) || key(option) == null) {
            return null;
        }
        String command = option.command() == null ? null : option.command().name();
        String specific = command == null ? null : values.getProperty(command + "." + key(option));
        return specific != null ? specific : values.getProperty(key(option));
    }

    /** The keys the file gives, for the line that says which file was read. */
    List<String> keys() {
        return values.stringPropertyNames().stream().sorted().toList();
    }
}
