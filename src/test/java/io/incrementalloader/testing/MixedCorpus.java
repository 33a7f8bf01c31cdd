package io.incrementalloader.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.incrementalloader.generate.DocumentGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The documents the tests of concurrent producers land: the generator's (10% duplicates, 5% malformed), then the
 * first 300 again with the application id respelled (7.0 for 7: equal as jsonb, landed among the last, so that
 * their originals were loaded batches before, by whichever caller held the lane then); split between a fast
 * producer and a slow one (every tenth document).
 */
public record MixedCorpus(List<String> fast, List<String> slow) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static MixedCorpus of(long seed, int generated) {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        List<String> documents = new ArrayList<>();
        try {
            new DocumentGenerator(seed, 0.1, 0.05).write(generated, file);
            JSON.readTree(file.toByteArray()).forEach(d -> documents.add(d.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < 300; i++) {
            documents.add(documents.get(i).replaceFirst("\"application_id\":(-?[0-9]+)([,}])", "\"application_id\":$1.0$2"));
        }
        List<String> fast = new ArrayList<>();
        List<String> slow = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            (i % 10 == 0 ? slow : fast).add(documents.get(i));
        }
        return new MixedCorpus(fast, slow);
    }
}
