import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.jooq.codegen.GenerationTool;
import org.jooq.meta.jaxb.Configuration;
import org.jooq.meta.jaxb.Database;
import org.jooq.meta.jaxb.Generate;
import org.jooq.meta.jaxb.Generator;
import org.jooq.meta.jaxb.Jdbc;
import org.jooq.meta.jaxb.Logging;
import org.jooq.meta.jaxb.SchemaMappingType;
import org.jooq.meta.jaxb.Target;

/**
 * Generates jOOQ's classes from db/ alone: starts a throwaway embedded PostgreSQL 15, applies the migrations with
 * Flyway, and reads the live schema. Run by the build (exec-maven-plugin) as a single-file program:
 * {@code java GenerateJooqClasses.java MIGRATIONS_DIR OUTPUT_DIR PACKAGE}.
 *
 * <p>The output is stamped with a digest of the migrations and of this file; an unchanged stamp skips the work.
 */
public class GenerateJooqClasses {

    public static void main(String[] args) throws Exception {
        Path migrations = Path.of(args[0]);
        Path output = Path.of(args[1]);
        String packageName = args[2];
        Path stamp = output.resolve(".db-digest");
        String digest = digestOf(migrations, Path.of(GenerateJooqClasses.class.getProtectionDomain()
                .getCodeSource().getLocation().toURI().getPath()));
        if (Files.exists(stamp) && Files.readString(stamp).equals(digest)) {
            System.out.println("jOOQ classes are up to date with " + migrations);
            return;
        }
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            String url = postgres.getJdbcUrl("postgres", "postgres");
            Flyway.configure()
                    .dataSource(url, "postgres", null)
                    .locations("filesystem:" + migrations.toAbsolutePath())
                    .load()
                    .migrate();
            GenerationTool.generate(new Configuration()
                    .withLogging(Logging.WARN)
                    .withJdbc(new Jdbc().withDriver("org.postgresql.Driver").withUrl(url).withUser("postgres"))
                    .withGenerator(new Generator()
                            .withDatabase(new Database()
                                    .withName("org.jooq.meta.postgres.PostgresDatabase")
                                    .withSchemata(new SchemaMappingType().withInputSchema("public"),
                                            new SchemaMappingType().withInputSchema("test_mv"))
                                    .withExcludes("flyway_schema_history"))
                            .withGenerate(new Generate().withJavaTimeTypes(true).withGeneratedAnnotation(false))
                            .withTarget(new Target()
                                    .withPackageName(packageName)
                                    .withDirectory(output.toAbsolutePath().toString()))));
        }
        Files.writeString(stamp, digest);
    }

    private static String digestOf(Path migrations, Path self) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        try (Stream<Path> files = Files.list(migrations)) {
            for (Path file : files.sorted().toList()) {
                md5.update(file.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md5.update(Files.readAllBytes(file));
            }
        }
        if (Files.isRegularFile(self)) {
            md5.update(Files.readAllBytes(self));
        }
        return HexFormat.of().formatHex(md5.digest());
    }
}
