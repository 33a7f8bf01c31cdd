package io.incrementalloader.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/** status --json: the status as one JSON object, times as ISO-8601 text, for scripts and monitoring. */
public final class StatusJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);

    private StatusJson() {
    }

    public static String write(LoaderStatus status) throws JsonProcessingException {
        return MAPPER.writeValueAsString(status);
    }
}
