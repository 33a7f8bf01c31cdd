package io.incrementalloader.load;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.SegmentedStringWriter;
import io.incrementalloader.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.LongConsumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Lands the documents of a file in {@code fake_json_request} with one COPY: a JSON array of documents, or one
 * document a line (NDJSON). Streamed in both directions, so a file of any size takes a fixed amount of memory.
 *
 * <p>All or nothing: the first syntax error (reported with its line and column) cancels the COPY, and a COPY is
 * one statement, so a file either lands whole or not at all. Documents are not checked here: a well-formed JSON
 * value that is a malformed document lands, and the loader rejects it with a reason.
 */
public final class DocumentImporter {
    private static final String COPY_SQL = "copy public.fake_json_request (stage) from stdin";
    private static final int FLUSH_BYTES = 1 << 16;

    private final JsonFactory json = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(Integer.MAX_VALUE).maxNumberLength(100_000).maxNestingDepth(10_000).build())
            .build();

    /** Lands every document of {@code file}; returns how many. {@code progress} hears the running count. */
    public long importFile(Connection connection, Path file, LongConsumer progress) {
        try (InputStream in = open(file)) {
            return importStream(connection, in, file.toString(), progress);
        } catch (IOException e) {
            throw new UserError("Cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Lands every document read from {@code raw}; {@code name} is what error messages call it. */
    public long importStream(Connection connection, InputStream raw, String name, LongConsumer progress) throws IOException {
        PushbackInputStream in = new PushbackInputStream(raw, 1);
        int first = firstSignificantByte(in);
        if (first < 0) {
            throw new UserError(name + " is empty: nothing to import. Give a JSON array of documents or one document a line.");
        }
        CopyIn copy = startCopy(connection);
        boolean done = false;
        try (JsonParser parser = json.createParser(in)) {
            CopyBuffer buffer = new CopyBuffer(copy);
            long count = 0;
            boolean array = first == '[';
            JsonToken token = parser.nextToken();
            if (array) {
                token = parser.nextToken();
            }
            while (token != null && !(array && token == JsonToken.END_ARRAY)) {
                buffer.addDocument(copyDocument(parser));
                count++;
                if (count % 10_000 == 0) {
                    progress.accept(count);
                }
                token = parser.nextToken();
            }
            if (array && token == null) {
                throw new UserError(name + ": the JSON array is not closed (the file ends early); nothing was imported.");
            }
            if (array && parser.nextToken() != null) {
                throw new UserError(name + ": " + where(parser.currentTokenLocation())
                        + " unexpected content after the closing ']' of the array; nothing was imported.");
            }
            buffer.flush();
            copy.endCopy();
            done = true;
            progress.accept(count);
            return count;
        } catch (JsonProcessingException e) {
            throw new UserError(name + ": " + where(e.getLocation()) + " invalid JSON (" + e.getOriginalMessage()
                    + "); nothing was imported. Fix the file and import it again.");
        } catch (SQLException e) {
            throw new UserError(name + ": the database refused a document (" + firstLine(e.getMessage())
                    + "); nothing was imported.", e);
        } finally {
            if (!done && copy.isActive()) {
                try {
                    copy.cancelCopy();
                } catch (SQLException ignored) {
                    // The copy is being abandoned because of an earlier error, which is the one to report.
                }
            }
        }
    }

    /** The current value, compacted, with numbers copied exactly as written (1.0 stays 1.0). */
    private String copyDocument(JsonParser parser) throws IOException {
        SegmentedStringWriter out = new SegmentedStringWriter(json._getBufferRecycler());
        try (JsonGenerator generator = json.createGenerator(out)) {
            generator.copyCurrentStructureExact(parser);
        }
        return out.getAndClear();
    }

    private static CopyIn startCopy(Connection connection) {
        try {
            return connection.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY_SQL);
        } catch (SQLException e) {
            throw new UserError("Cannot start COPY into fake_json_request: " + firstLine(e.getMessage())
                    + ". Run `migrate` first, or check the database.", e);
        }
    }

    private static InputStream open(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new UserError(file + " is a directory; give a JSON or NDJSON file.");
            }
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + " does not exist; give the path of a JSON or NDJSON file.");
        } catch (IOException e) {
            throw new UserError("Cannot open " + file + ": " + e.getMessage());
        }
    }

    private static int firstSignificantByte(PushbackInputStream in) throws IOException {
        int b = in.read();
        if (b == 0xEF) { // a UTF-8 byte order mark
            in.read();
            in.read();
            b = in.read();
        }
        while (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
            b = in.read();
        }
        if (b >= 0) {
            in.unread(b);
        }
        return b;
    }

    private static String where(JsonLocation location) {
        return location == null ? "" : "line " + location.getLineNr() + ", column " + location.getColumnNr() + ":";
    }

    private static String firstLine(String message) {
        int newline = message == null ? -1 : message.indexOf('\n');
        return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
    }

    /** Collects documents as COPY text-format lines and sends them in large chunks. */
    private static final class CopyBuffer {
        private final CopyIn copy;
        private final StringBuilder pending = new StringBuilder(FLUSH_BYTES * 2);

        CopyBuffer(CopyIn copy) {
            this.copy = copy;
        }

        void addDocument(String document) throws SQLException {
            // Compact JSON holds no raw tab or newline; the backslash is the only character COPY text escapes.
            for (int i = 0; i < document.length(); i++) {
                char c = document.charAt(i);
                if (c == '\\') {
                    pending.append('\\');
                }
                pending.append(c);
            }
            pending.append('\n');
            if (pending.length() >= FLUSH_BYTES) {
                flush();
            }
        }

        void flush() throws SQLException {
            if (pending.length() > 0) {
                byte[] bytes = pending.toString().getBytes(StandardCharsets.UTF_8);
                copy.writeToCopy(bytes, 0, bytes.length);
                pending.setLength(0);
            }
        }
    }
}
