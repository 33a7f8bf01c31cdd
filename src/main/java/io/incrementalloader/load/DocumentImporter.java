package io.incrementalloader.load;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.io.SegmentedStringWriter;
import io.incrementalloader.Printable;
import io.incrementalloader.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PushbackInputStream;
import java.io.PushbackReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
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
 *
 * <p>Never altered: what lands is what PostgreSQL would store for the same JSON text, or the file is refused, naming
 * the line and the document's position. So a string PostgreSQL refuses (one holding {@code \u0000}, or a lone
 * surrogate escape, which Java would turn into "?") is refused here, before the COPY; UTF-8 is read as bytes (Jackson
 * reports invalid UTF-8 where it stands), UTF-16 and UTF-32 only with their byte order mark, strictly decoded.
 */
public final class DocumentImporter {
    private static final String COPY_SQL = "copy public.fake_json_request (stage) from stdin";
    private static final int FLUSH_BYTES = 1 << 16;

    /**
     * PostgreSQL's own limits, or just under: a jsonb container holds at most 2^28 - 1 bytes, so no string is longer;
     * numeric takes 131,072 digits before the point and 16,383 after; its JSON parser recurses, and at the default
     * max_stack_depth it stops a little past 10,000 levels.
     */
    static final int MAX_DEPTH = 10_000;
    private static final int MAX_STRING = (1 << 28) - 1;
    private static final int MAX_NUMBER = 131_072 + 16_383 + 2;

    private final JsonFactory json = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(MAX_STRING).maxNumberLength(MAX_NUMBER).maxNestingDepth(MAX_DEPTH).build())
            // The writer's own default (1,000 levels) would refuse documents PostgreSQL takes.
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_DEPTH + 1).build())
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
        PushbackInputStream in = new PushbackInputStream(raw, 4);
        Charset charset = encoding(in, name);
        PushbackReader text = charset == null ? null : new PushbackReader(new InputStreamReader(in,
                charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)), 1);
        int first = text == null ? firstSignificantByte(in) : firstSignificantChar(text);
        if (first < 0) {
            throw new UserError(name + " is empty: nothing to import. Give a JSON array of documents or one document a line.");
        }
        CopyIn copy = startCopy(connection);
        boolean done = false;
        long count = 0;
        JsonParser parser = text == null ? json.createParser(in) : json.createParser(text);
        try (parser) {
            CopyBuffer buffer = new CopyBuffer(copy);
            boolean array = first == '[';
            JsonToken token = parser.nextToken();
            if (array) {
                token = parser.nextToken();
            }
            while (token != null && !(array && token == JsonToken.END_ARRAY)) {
                buffer.addDocument(copyDocument(parser, name, count + 1));
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
            // A limit's exception (depth, length) carries no location: the parser still knows where it stopped.
            JsonLocation location = e.getLocation() != null ? e.getLocation() : parser.currentLocation();
            throw new UserError(name + ": " + where(location) + " invalid JSON in document " + (count + 1) + " ("
                    + e.getOriginalMessage() + "); nothing was imported. Fix the file and import it again.");
        } catch (CharacterCodingException e) {
            throw new UserError(name + ": not valid " + charset + " after document " + count
                    + "; nothing was imported. Save the file as UTF-8 and import it again.");
        } catch (SQLException e) {
            throw new UserError(name + ": the database refused a document (" + Printable.firstLine(e.getMessage())
                    + "); nothing was imported.", e);
        } catch (OutOfMemoryError e) {
            throw new UserError(name + ": document " + (count + 1) + " does not fit in this JVM's memory; nothing was"
                    + " imported. Give java more memory (-Xmx) or split the document's file.");
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

    /**
     * The current value, compacted, with numbers copied exactly as written (1.0 stays 1.0), event by event so that
     * every string and key is looked at on the way: one PostgreSQL would refuse, or Java would alter, stops the import.
     */
    private String copyDocument(JsonParser parser, String name, long position) throws IOException {
        SegmentedStringWriter out = new SegmentedStringWriter(json._getBufferRecycler());
        try (JsonGenerator generator = json.createGenerator(out)) {
            int depth = 0;
            do {
                JsonToken token = parser.currentToken();
                if (token == JsonToken.FIELD_NAME || token == JsonToken.VALUE_STRING) {
                    String refusal = refusal(parser.getText());
                    if (refusal != null) {
                        throw new UserError(name + ": " + where(parser.currentTokenLocation()) + " document " + position
                                + " holds " + refusal + ", which PostgreSQL does not store in jsonb; nothing was"
                                + " imported. Remove it from the document and import the file again.");
                    }
                }
                generator.copyCurrentEventExact(parser);
                if (token.isStructStart()) {
                    depth++;
                } else if (token.isStructEnd()) {
                    depth--;
                }
            } while (depth > 0 && parser.nextToken() != null);
        }
        return out.getAndClear();
    }

    /** What in a string PostgreSQL's jsonb refuses, or null: U+0000, or half of a surrogate pair. */
    static String refusal(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\u0000') {
                return "the character \\u0000";
            }
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return String.format("a lone surrogate \\u%04x", (int) c);
            }
        }
        return null;
    }

    private static CopyIn startCopy(Connection connection) {
        try {
            return connection.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY_SQL);
        } catch (SQLException e) {
            throw new UserError("Cannot start COPY into fake_json_request: " + Printable.firstLine(e.getMessage())
                    + ". Run `migrate` first, or check the database.", e);
        }
    }

    private static InputStream open(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new UserError(file + " is a directory; give a JSON or NDJSON file.");
            }
            if (Files.exists(file) && !Files.isRegularFile(file)) {
                throw new UserError(file + " is not a regular file (a pipe, a device or a socket): import reads"
                        + " all or nothing from a file; write the documents to a file first.");
            }
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + " does not exist; give the path of a JSON or NDJSON file.");
        } catch (IOException e) {
            throw new UserError("Cannot open " + file + ": " + e.getMessage());
        }
    }

    /**
     * The file's encoding from its byte order mark: null for UTF-8 (with its mark skipped), which Jackson reads as
     * bytes; UTF-16 or UTF-32 with their mark skipped. A file that starts with a zero byte and no mark is UTF-16 or
     * UTF-32 of unknown order: refused rather than guessed.
     */
    private static Charset encoding(PushbackInputStream in, String name) throws IOException {
        byte[] head = in.readNBytes(4);
        int n = head.length;
        int b0 = n > 0 ? head[0] & 0xFF : -1;
        int b1 = n > 1 ? head[1] & 0xFF : -1;
        int b2 = n > 2 ? head[2] & 0xFF : -1;
        int b3 = n > 3 ? head[3] & 0xFF : -1;
        Charset charset = null;
        int mark = 0;
        if (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF) {
            mark = 3;
        } else if (b0 == 0 && b1 == 0 && b2 == 0xFE && b3 == 0xFF) {
            charset = Charset.forName("UTF-32BE");
            mark = 4;
        } else if (b0 == 0xFF && b1 == 0xFE && b2 == 0 && b3 == 0) {
            charset = Charset.forName("UTF-32LE");
            mark = 4;
        } else if (b0 == 0xFE && b1 == 0xFF) {
            charset = StandardCharsets.UTF_16BE;
            mark = 2;
        } else if (b0 == 0xFF && b1 == 0xFE) {
            charset = StandardCharsets.UTF_16LE;
            mark = 2;
        } else if (b0 == 0 || b1 == 0) {
            throw new UserError(name + " looks like UTF-16 or UTF-32 without a byte order mark; nothing was imported."
                    + " Save it as UTF-8 (or with a byte order mark) and import it again.");
        }
        in.unread(head, mark, n - mark);
        return charset;
    }

    private static int firstSignificantChar(PushbackReader in) throws IOException {
        int c = in.read();
        while (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            c = in.read();
        }
        if (c >= 0) {
            in.unread(c);
        }
        return c;
    }

    private static int firstSignificantByte(PushbackInputStream in) throws IOException {
        int b = in.read();
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
