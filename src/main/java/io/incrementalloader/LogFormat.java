package io.incrementalloader;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.slf4j.LoggerFactory;

/**
 * How log lines look: TEXT, one line a message as logback.xml writes it (for people), or JSON, one object a line
 * (for log collectors): timestamp (milliseconds since the epoch), level, loggerName, formattedMessage, and the
 * figures a line carries as key-value pairs (kvpList: a run's documents, rows and seconds).
 */
public enum LogFormat {
    TEXT,
    JSON;

    /** Switches the one appender of logback.xml to this format; TEXT leaves it as configured. */
    @SuppressWarnings("unchecked")
    public void apply() {
        if (this == TEXT || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        var appender = (OutputStreamAppender<ILoggingEvent>) context.getLogger(Logger.ROOT_LOGGER_NAME)
                .getAppender("STDERR");
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithMDC(false);
        encoder.setWithMessage(false);
        encoder.setWithArguments(false);
        encoder.setWithFormattedMessage(true);
        encoder.start();
        appender.stop();
        appender.setEncoder(encoder);
        appender.start();
    }
}
