package io.incrementalloader;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.slf4j.LoggerFactory;

/**
 * How log lines look: TEXT, one line a message as logback.xml writes it (for people), or JSON, one flat object a
 * line (for log collectors, FlatJsonEncoder): time, level, logger, message, and the figures a line carries as fields
 * of their own, numbers as numbers (a run's documents, rows and seconds; a failure's sqlstate and kind).
 */
public enum LogFormat {
    TEXT,
    JSON;

    private static volatile LogFormat active = TEXT;

    /** The format the command runs with. */
    public static LogFormat active() {
        return active;
    }

    /** Switches the one appender of logback.xml to this format; TEXT leaves it as configured. */
    @SuppressWarnings("unchecked")
    public void apply() {
        active = this;
        if (this == TEXT || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        var appender = (OutputStreamAppender<ILoggingEvent>) context.getLogger(Logger.ROOT_LOGGER_NAME)
                .getAppender("STDERR");
        FlatJsonEncoder encoder = new FlatJsonEncoder();
        encoder.setContext(context);
        encoder.start();
        appender.stop();
        appender.setEncoder(encoder);
        appender.start();
    }
}
