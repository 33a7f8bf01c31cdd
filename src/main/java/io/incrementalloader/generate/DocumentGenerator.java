package io.incrementalloader.generate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.util.SplittableRandom;

/**
 * Writes client-application documents of the contract's shape as one JSON array, one document a line, streamed:
 * any count takes the same memory. The same seed and options give the same bytes.
 *
 * <p>Mixes in, on request, duplicates (an earlier document again, its keys in another order, so equal only as
 * jsonb) and malformed documents, one of each {@link Malformation} in turn, each naming the field it breaks.
 */
public final class DocumentGenerator {
    private static final String[] PHONE_TYPES = {"mobile", "work", "home"};
    private static final String[] ADDRESS_TYPES = {"registration", "residential", "work"};
    private static final String[] CITIES = {"moscow", "kazan", "tver", "sochi", "omsk"};
    private static final String[] STREETS = {"Ленина", "Tverskaya", "O'Neil \"Old\" road", "back\\slash lane", "日本橋"};
    private static final String[] PRODUCTS = {"pensil", "pen", "eraser", "ruler", "notebook", "marker"};

    private final long seed;
    private final double duplicateShare;
    private final double malformedShare;

    public DocumentGenerator(long seed, double duplicateShare, double malformedShare) {
        this.seed = seed;
        this.duplicateShare = duplicateShare;
        this.malformedShare = malformedShare;
    }

    /** What was written: how many documents, of which duplicates and malformed ones. */
    public record Written(long documents, long duplicates, long malformed) {
    }

    public Written write(long count, OutputStream out) throws IOException {
        long duplicates = 0;
        long malformed = 0;
        try (JsonGenerator json = new JsonFactory().setRootValueSeparator(null).createGenerator(out)) {
            json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            json.writeRaw('[');
            for (long i = 0; i < count; i++) {
                json.writeRaw(i == 0 ? "\n" : ",\n");
                SplittableRandom random = randomFor(i);
                long original = kindOf(i) == Kind.DUPLICATE ? earlierWellFormed(i, random) : -1;
                if (original >= 0) {
                    writeWellFormed(json, original, true);
                    duplicates++;
                } else if (kindOf(i) == Kind.MALFORMED) {
                    Malformation.values()[(int) (i % Malformation.values().length)].write(json, random);
                    malformed++;
                } else {
                    writeWellFormed(json, i, false);
                }
            }
            json.writeRaw("\n]\n");
        }
        return new Written(count, duplicates, malformed);
    }

    private enum Kind { WELL_FORMED, DUPLICATE, MALFORMED }

    /** What document {@code index} is: a pure function of the seed and the index, so duplicates can look back. */
    private Kind kindOf(long index) {
        double roll = randomFor(index).nextDouble();
        return roll < duplicateShare ? Kind.DUPLICATE
                : roll < duplicateShare + malformedShare ? Kind.MALFORMED : Kind.WELL_FORMED;
    }

    /** An earlier well-formed document to repeat, or -1 when a few tries find none. */
    private long earlierWellFormed(long index, SplittableRandom random) {
        for (int attempt = 0; attempt < 8 && index > 0; attempt++) {
            long candidate = random.nextLong(index);
            if (kindOf(candidate) == Kind.WELL_FORMED) {
                return candidate;
            }
        }
        return -1;
    }

    private SplittableRandom randomFor(long index) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    }

    /** Document number {@code index}; {@code reordered} writes the same content with its keys in another order. */
    private void writeWellFormed(JsonGenerator json, long index, boolean reordered) throws IOException {
        SplittableRandom random = new SplittableRandom(seed * 31 + index * 0x2545F4914F6CDD1DL);
        int applicationId = (int) (index % Integer.MAX_VALUE);
        long clientId = random.nextLong(1, 10_000_000);
        json.writeStartObject();
        if (!reordered) {
            json.writeNumberField("application_id", applicationId);
            json.writeNumberField("client_id", clientId);
        }
        writePhones(json, random);
        writeAddresses(json, random);
        writeProducts(json, random);
        if (reordered) {
            json.writeNumberField("client_id", clientId);
            json.writeNumberField("application_id", applicationId);
        }
        json.writeEndObject();
    }

    private static void writePhones(JsonGenerator json, SplittableRandom random) throws IOException {
        json.writeArrayFieldStart("phones");
        for (int p = random.nextInt(4); p > 0; p--) {
            json.writeStartObject();
            json.writeStringField(PHONE_TYPES[random.nextInt(PHONE_TYPES.length)],
                    String.format("%010d", random.nextLong(10_000_000_000L)));
            json.writeEndObject();
        }
        json.writeEndArray();
    }

    private static void writeAddresses(JsonGenerator json, SplittableRandom random) throws IOException {
        json.writeArrayFieldStart("addresses");
        for (int a = random.nextInt(4); a > 0; a--) {
            json.writeStartObject();
            json.writeStringField("type", ADDRESS_TYPES[random.nextInt(ADDRESS_TYPES.length)]);
            if (random.nextInt(5) == 0) {
                json.writeNullField("date");
                json.writeNullField("address");
            } else {
                json.writeStringField("date", String.format("%02d-%02d-%04d",
                        random.nextInt(1, 29), random.nextInt(1, 13), random.nextInt(1940, 2026)));
                json.writeObjectFieldStart("address");
                json.writeStringField("city", CITIES[random.nextInt(CITIES.length)]);
                json.writeStringField("street", STREETS[random.nextInt(STREETS.length)]);
                json.writeStringField("house", Integer.toString(random.nextInt(1, 200)));
                if (random.nextInt(4) > 0) {
                    json.writeNumberField("flat", random.nextInt(1, 500));
                }
                json.writeEndObject();
            }
            json.writeEndObject();
        }
        json.writeEndArray();
    }

    private static void writeProducts(JsonGenerator json, SplittableRandom random) throws IOException {
        int first = random.nextInt(PRODUCTS.length);
        int kinds = random.nextInt(5);
        int[] counts = new int[kinds];
        long total = 0;
        json.writeObjectFieldStart("products");
        json.writeObjectFieldStart("product_cnt");
        for (int k = 0; k < kinds; k++) {
            counts[k] = random.nextInt(1, 20);
            json.writeNumberField(PRODUCTS[(first + k) % PRODUCTS.length], counts[k]);
        }
        json.writeEndObject();
        json.writeObjectFieldStart("product_cost");
        for (int k = 0; k < kinds; k++) {
            int cost = random.nextInt(1, 1000);
            total += (long) cost * counts[k];
            json.writeNumberField(PRODUCTS[(first + k) % PRODUCTS.length], cost);
        }
        json.writeEndObject();
        json.writeNumberField("total_sum", total);
        json.writeEndObject();
    }
}
