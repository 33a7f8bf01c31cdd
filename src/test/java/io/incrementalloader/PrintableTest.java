package io.incrementalloader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What reaches a terminal cannot forge a line or drive the terminal. */
class PrintableTest {
    @Test
    void control_characters_and_bidirectional_overrides_are_escaped_and_the_rest_kept() {
        assertEquals("a\\u000aforged line\\u001b[31mred\\u202eevil", Printable.of("a\nforged line\u001b[31mred\u202eevil"));
        assertEquals("Ленина 𝄞 \"quoted\" tab-free", Printable.of("Ленина 𝄞 \"quoted\" tab-free"));
        assertEquals("\\u0009\\u007f\\u009b", Printable.of("\t\u007f\u009b"));
    }
}
