package io.incrementalloader;

/**
 * Text from the database made safe for a terminal: documents' keys reach rejection reasons, and any session sets
 * its own application_name, so a newline could forge a line of a report and an escape sequence could drive the
 * terminal. Control characters (C0, DEL, C1) and the bidirectional overrides are shown as {@code \}{@code uXXXX}.
 */
public final class Printable {
    private Printable() {
    }

    public static String of(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean unsafe = c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E)
                    || (c >= 0x2066 && c <= 0x2069);
            if (unsafe && out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (out != null) {
                if (unsafe) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }

    /**
     * A message's first line, escaped: what a one-line error shows of a failure (a database's message may quote a
     * document); "no reason given" for none.
     */
    public static String firstLine(String message) {
        if (message == null) {
            return "no reason given";
        }
        int newline = message.indexOf('\n');
        return of(newline < 0 ? message : message.substring(0, newline));
    }
}
