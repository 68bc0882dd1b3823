package org.userstoregateway.keycloak;

import java.util.Locale;

/**
 * The few string helpers the provider needs in several places, null-safe.
 * Keycloak treats a blank value as no value, hence the two ways to turn one
 * into {@code null}: settings are stripped, user data is kept as it is.
 */
final class Strings {

    private Strings() {
    }

    /** Lower case independent of the JVM's locale (no Turkish dotless i), as Keycloak keys usernames and emails. */
    static String lowerCase(String value) {
        return value == null ? null : value.toLowerCase(Locale.ROOT);
    }

    /** {@code null} for a null or blank value, otherwise the value unchanged (surrounding white space kept). */
    static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    /** {@code null} for a null or blank value, otherwise the value without surrounding white space. */
    static String stripToNull(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
