package org.userstoregateway.keycloak;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Collects the provider's log lines during a test. JBoss Logging falls back to
 * java.util.logging when no other backend is on the class path, as in these tests.
 */
final class LogCapture extends Handler implements AutoCloseable {

    private static final Logger PACKAGE_LOGGER = Logger.getLogger("org.userstoregateway.keycloak");

    private final SimpleFormatter formatter = new SimpleFormatter();
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    private LogCapture() {
        setLevel(Level.ALL);
    }

    static LogCapture start() {
        LogCapture capture = new LogCapture();
        PACKAGE_LOGGER.addHandler(capture);
        return capture;
    }

    List<String> warnings() {
        return records.stream()
                .filter(record -> record.getLevel().intValue() >= Level.WARNING.intValue())
                .map(this::text)
                .toList();
    }

    /** Every captured line as "LEVEL message", with JBoss Logging's level names (WARN, INFO; DEBUG is not captured). */
    List<String> lines() {
        return records.stream().map(record -> record.getLevel().getName() + " " + text(record)).toList();
    }

    /** Every captured message with its exception chain, for "no secret anywhere" checks. */
    String everything() {
        StringBuilder all = new StringBuilder();
        for (LogRecord record : records) {
            all.append(text(record)).append('\n');
            for (Throwable t = record.getThrown(); t != null; t = t.getCause()) {
                all.append(t).append('\n');
            }
        }
        return all.toString();
    }

    private String text(LogRecord record) {
        return formatter.formatMessage(record);
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        PACKAGE_LOGGER.removeHandler(this);
    }
}
