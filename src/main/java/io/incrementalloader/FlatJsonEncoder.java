package io.incrementalloader;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object a log line, flat, for log collectors (Loki, Elasticsearch, CloudWatch) to filter and sum: {@code
 * time} (ISO-8601, UTC), {@code level}, {@code logger}, {@code message}, then every key-value pair of the line as a
 * field of its own with its JSON type (a run's figures as numbers, a verdict as a string), and {@code error} for an
 * exception's first line. Logback's own JsonEncoder puts the pairs in an array of one-key objects whose values are
 * strings, which no collector can sum.
 *
 * <p>A pair whose key is one of the fixed fields, or repeats an earlier key, is written under {@code kv.KEY} instead,
 * so that no line has a key twice.
 */
public final class FlatJsonEncoder extends EncoderBase<ILoggingEvent> {
    private static final Set<String> FIXED = Set.of("time", "level", "logger", "message", "error");
    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
            json.writeStringField("level", event.getLevel().toString());
            json.writeStringField("logger", event.getLoggerName());
            json.writeStringField("message", event.getFormattedMessage());
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                json.writeStringField("error", thrown.getClassName() + ": " + Printable.firstLine(thrown.getMessage()));
            }
            if (event.getKeyValuePairs() != null) {
                Set<String> written = new HashSet<>(FIXED);
                for (KeyValuePair pair : event.getKeyValuePairs()) {
                    json.writeFieldName(written.add(pair.key) ? pair.key : "kv." + pair.key);
                    writeValue(json, pair.value);
                }
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('\n');
        return out.toByteArray();
    }

    private static void writeValue(JsonGenerator json, Object value) throws IOException {
        if (value == null) {
            json.writeNull();
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            json.writeNumber(((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            if (Double.isFinite(number)) {
                json.writeNumber(number);
            } else {
                json.writeNull(); // JSON has no NaN or infinity
            }
        } else if (value instanceof BigDecimal decimal) {
            json.writeNumber(decimal);
        } else if (value instanceof BigInteger integer) {
            json.writeNumber(integer);
        } else if (value instanceof Boolean bool) {
            json.writeBoolean(bool);
        } else {
            json.writeString(String.valueOf(value));
        }
    }
}
