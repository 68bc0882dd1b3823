package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class StringsTest {

    @Test
    void lowerCase_null_isNull() {
        assertNull(Strings.lowerCase(null));
    }

    @Test
    void lowerCase_mixedCase_isLowerCaseWithWhiteSpaceKept() {
        assertEquals(" m.mustermann@example.test ", Strings.lowerCase(" M.Mustermann@Example.TEST "));
    }

    @Test
    void lowerCase_blank_staysBlank() {
        assertEquals(" ", Strings.lowerCase(" "));
    }

    @Test
    void lowerCase_turkishDefaultLocale_ignoresIt() {
        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("tr-TR"));

            assertEquals("title", Strings.lowerCase("TITLE"));
        } finally {
            Locale.setDefault(before);
        }
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", " ", "\t\n"})
    void blankToNull_nullOrBlank_isNull(String value) {
        assertNull(Strings.blankToNull(value));
    }

    @Test
    void blankToNull_text_isUnchangedWithWhiteSpaceKept() {
        assertEquals(" Max ", Strings.blankToNull(" Max "));
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", " ", "\t\n"})
    void stripToNull_nullOrBlank_isNull(String value) {
        assertNull(Strings.stripToNull(value));
    }

    @Test
    void stripToNull_text_isStripped() {
        assertEquals("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                Strings.stripToNull("\n -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n "));
    }
}
