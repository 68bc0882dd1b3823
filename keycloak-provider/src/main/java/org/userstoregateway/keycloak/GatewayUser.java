package org.userstoregateway.keycloak;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A user as the gateway describes it. Missing collections become empty ones
 * (null entries are dropped rather than failing the whole user), a missing
 * {@code enabled} means enabled, a missing {@code emailVerified} means not verified.
 *
 * <p>{@code hasUsablePassword} is false when the row has no hash the gateway
 * can check (NULL, an unknown or unusable hasher, a malformed value). Gateways
 * older than that field do not send it; missing means true, which keeps their
 * users exactly as before: the gateway checks every password.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record GatewayUser(
        String id,
        String username,
        String email,
        String firstName,
        String lastName,
        Boolean enabled,
        Boolean emailVerified,
        Long createdTimestamp,
        Map<String, List<String>> attributes,
        List<String> realmRoles,
        Map<String, List<String>> clientRoles,
        Boolean hasUsablePassword) {

    public GatewayUser {
        enabled = enabled == null ? Boolean.TRUE : enabled;
        hasUsablePassword = hasUsablePassword == null ? Boolean.TRUE : hasUsablePassword;
        emailVerified = emailVerified == null ? Boolean.FALSE : emailVerified;
        attributes = copyOf(attributes);
        realmRoles = copyOf(realmRoles);
        clientRoles = copyOf(clientRoles);
    }

    /** A user without id or username cannot be federated; the client rejects such answers. */
    boolean isComplete() {
        return id != null && !id.isBlank() && username != null && !username.isBlank();
    }

    private static List<String> copyOf(List<String> values) {
        return values == null ? List.of() : values.stream().filter(Objects::nonNull).toList();
    }

    private static Map<String, List<String>> copyOf(Map<String, List<String>> map) {
        if (map == null) {
            return Map.of();
        }
        Map<String, List<String>> copy = new LinkedHashMap<>();
        map.forEach((key, values) -> {
            if (key != null) {
                copy.put(key, copyOf(values));
            }
        });
        return Collections.unmodifiableMap(copy);
    }
}
