package io.incrementalloader.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.IVersionProvider;

/**
 * What --version prints: the loader's version (its jar's Implementation-Version) and the database schema version it
 * expects, the highest versioned migration it ships (db/migration/V0xx__*.sql), as Flyway's history records it.
 */
final class VersionInfo implements IVersionProvider {
    private static final Pattern VERSIONED = Pattern.compile("(?:^|/)V(\\d+)__[^/]*\\.sql$");

    @Override
    public String[] getVersion() {
        String version = VersionInfo.class.getPackage().getImplementationVersion();
        return new String[] {"incremental-loader " + (version == null ? "(a development build)" : version)
                + ", database schema version " + schemaVersion()};
    }

    /** The highest versioned migration shipped, as Flyway writes it ("015"); "none" when none is found. */
    static String schemaVersion() {
        URL migrations = VersionInfo.class.getClassLoader().getResource("db/migration");
        if (migrations == null) {
            return "none";
        }
        try {
            List<String> names;
            if ("jar".equals(migrations.getProtocol())) {
                try (JarFile jar = ((JarURLConnection) migrations.openConnection()).getJarFile()) {
                    names = jar.stream().map(e -> e.getName()).filter(n -> n.startsWith("db/migration/")).toList();
                }
            } else {
                try (Stream<Path> files = Files.list(Path.of(migrations.toURI()))) {
                    names = files.map(f -> f.getFileName().toString()).toList();
                }
            }
            return names.stream().map(VERSIONED::matcher).filter(Matcher::find).map(m -> m.group(1))
                    .max(Comparator.comparingInt(Integer::parseInt)).orElse("none");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
