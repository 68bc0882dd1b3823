package org.userstoregateway.keycloak;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

import org.keycloak.models.UserModel;

/**
 * How one Keycloak search maps onto the gateway's single {@code search} parameter.
 *
 * <p>Keycloak's free-text search ({@link UserModel#SEARCH}) goes to the gateway
 * as it is, and the gateway pages. Field searches (username, email, first and
 * last name, with or without {@link UserModel#EXACT}) and the enabled /
 * email-verified flags are narrowed down on the gateway with one search term
 * and checked here per field, so paging happens here. The enabled flag is
 * checked on the Keycloak user model ({@link #acceptsEnabled}), since Keycloak
 * may have disabled a user the database enables. Searches the gateway cannot
 * answer at all (identity provider links, custom attributes) match nobody.
 *
 * @param gatewaySearch the value for the gateway's {@code search} parameter
 * @param filter        the check each gateway result must pass, or {@code null} if the gateway's answer is exact
 * @param enabled       the wanted enabled state, or {@code null} for any
 * @param matchesNobody whether the search can be answered without asking the gateway: nobody
 */
record UserSearch(String gatewaySearch, Predicate<GatewayUser> filter, Boolean enabled, boolean matchesNobody) {

    static final String ALL = "*";

    private static final UserSearch NOBODY = new UserSearch(ALL, null, null, true);

    /** Keys that do not narrow the search for users of this provider. */
    private static final Set<String> NEUTRAL_KEYS = Set.of(UserModel.INCLUDE_SERVICE_ACCOUNT, UserModel.EXACT);

    /** The searchable fields, most selective first: the first one present becomes the gateway's search term. */
    private static final Map<String, Function<GatewayUser, String>> FIELDS = orderedFields();

    static UserSearch of(Map<String, String> params) {
        Predicate<GatewayUser> filter = null;
        Boolean enabled = null;
        boolean exact = Boolean.parseBoolean(params.get(UserModel.EXACT));

        for (Map.Entry<String, String> param : params.entrySet()) {
            String key = param.getKey();
            String value = param.getValue();
            if (NEUTRAL_KEYS.contains(key) || key.equals(UserModel.SEARCH) || FIELDS.containsKey(key)) {
                continue;
            }
            if (value == null) {
                continue;
            }
            if (key.equals(UserModel.ENABLED)) {
                enabled = Boolean.parseBoolean(value);
            } else if (key.equals(UserModel.EMAIL_VERIFIED)) {
                boolean wanted = Boolean.parseBoolean(value);
                filter = and(filter, user -> user.emailVerified() == wanted);
            } else {
                // Identity provider links and custom attributes are not in the user database.
                return NOBODY;
            }
        }

        String search = params.get(UserModel.SEARCH);
        if (search != null) {
            String trimmed = search.strip();
            return new UserSearch(trimmed.isEmpty() ? ALL : trimmed, filter, enabled, false);
        }

        String term = null;
        for (Map.Entry<String, Function<GatewayUser, String>> field : FIELDS.entrySet()) {
            String value = params.get(field.getKey());
            if (value == null) {
                continue;
            }
            if (term == null) {
                term = exact ? "\"" + value + "\"" : "*" + value + "*";
            }
            filter = and(filter, fieldMatches(field.getValue(), value, exact));
        }
        return new UserSearch(term == null ? ALL : term, filter, enabled, false);
    }

    /** Whether the gateway's answer needs no further check, so paging can happen on the gateway. */
    boolean pagesOnGateway() {
        return filter == null && enabled == null;
    }

    /**
     * The checks on the gateway's data. For {@code enabled=true} that includes
     * the database's flag, as a user the database disables is never enabled.
     */
    boolean accepts(GatewayUser user) {
        return (filter == null || filter.test(user)) && (enabled != Boolean.TRUE || user.enabled());
    }

    /** The enabled check on the user as Keycloak sees it (database and Keycloak-side disable). */
    boolean acceptsEnabled(UserModel user) {
        return enabled == null || user.isEnabled() == enabled;
    }

    /** Mirrors Keycloak's own user store: case-insensitive, equality if exact, else substring. */
    private static Predicate<GatewayUser> fieldMatches(Function<GatewayUser, String> field, String value,
                                                       boolean exact) {
        String wanted = Strings.lowerCase(value);
        return user -> {
            String actual = field.apply(user);
            if (actual == null) {
                return false;
            }
            String lower = Strings.lowerCase(actual);
            return exact ? lower.equals(wanted) : lower.contains(wanted);
        };
    }

    private static Predicate<GatewayUser> and(Predicate<GatewayUser> first, Predicate<GatewayUser> second) {
        return first == null ? second : first.and(second);
    }

    private static Map<String, Function<GatewayUser, String>> orderedFields() {
        Map<String, Function<GatewayUser, String>> fields = new LinkedHashMap<>();
        fields.put(UserModel.USERNAME, GatewayUser::username);
        fields.put(UserModel.EMAIL, GatewayUser::email);
        fields.put(UserModel.LAST_NAME, GatewayUser::lastName);
        fields.put(UserModel.FIRST_NAME, GatewayUser::firstName);
        return Collections.unmodifiableMap(fields);
    }
}
