package org.userstoregateway.keycloak;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.keycloak.common.util.MultivaluedHashMap;
import org.keycloak.component.ComponentModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.storage.ReadOnlyException;
import org.keycloak.storage.StorageId;
import org.keycloak.storage.adapter.AbstractUserAdapterFederatedStorage;

/**
 * A user from the gateway, as Keycloak sees it.
 *
 * <p>Fields from the user database (username, email, names, enabled, email
 * verified, created timestamp and the database's attributes) are read-only:
 * setting a different value throws {@link ReadOnlyException} naming the
 * field, setting the same value does nothing, because Keycloak's forms send
 * unchanged fields back. Everything Keycloak keeps on its own (required
 * actions, other attributes such as {@code locale}, groups, extra role grants,
 * OTP) goes to Keycloak's federated storage through the base class. The one
 * exception to "enabled is read-only": Keycloak may disable an enabled user on
 * its own side (see {@link #setEnabled}).
 *
 * <p>Role mappings are the database's roles, looked up by name in the realm,
 * plus the federated grants and the realm's default roles. The base class
 * builds {@code getRoleMappingsStream}, {@code hasRole} and the realm/client
 * views from {@link #getRoleMappingsInternal()}, so that is the one hook needed.
 *
 * <p>What federated storage holds for the user (attributes, required actions)
 * is read once per adapter, that is once per Keycloak session, and read again
 * after this adapter writes there: a login asks for the user's attributes and
 * required actions several times (the user profile, the enabled check, the
 * grant), and without Keycloak's user cache (cache policy NO_CACHE) each ask
 * was a query to Keycloak's database.
 */
public final class GatewayUserAdapter extends AbstractUserAdapterFederatedStorage {

    /**
     * The federated-storage attribute holding a disable done in Keycloak, as
     * {@code "false"}: the name and format Keycloak's own
     * {@link AbstractUserAdapterFederatedStorage#isEnabled()} uses. Hidden from
     * the attribute views and not writable as an attribute; only
     * {@link #setEnabled} changes it.
     */
    static final String KEYCLOAK_DISABLED = AbstractUserAdapterFederatedStorage.ENABLED_ATTRIBUTE;

    private final GatewayUser user;
    private final MissingRoleWarnings missingRoles;
    private Set<RoleModel> databaseRoles;
    /** The user's attributes in federated storage, read on first use; null again after a write. */
    private MultivaluedHashMap<String, String> keycloakSide;
    /** The user's required actions in federated storage, read on first use; null again after a write. */
    private Set<String> requiredActions;

    GatewayUserAdapter(KeycloakSession session, RealmModel realm, ComponentModel storageProviderModel,
                       GatewayUser user, MissingRoleWarnings missingRoles) {
        super(session, realm, storageProviderModel);
        this.user = user;
        this.missingRoles = missingRoles;
        this.storageId = new StorageId(StorageId.keycloakId(storageProviderModel, user.id()));
    }

    /** The user as the gateway described it when this session loaded it. */
    GatewayUser gatewayUser() {
        return user;
    }

    /** {@code f:<component id>:<gateway id>}, not the username the base class would use. */
    @Override
    public String getId() {
        return storageId.getId();
    }

    // Keycloak keeps usernames and emails in lower case; so does this view.

    @Override
    public String getUsername() {
        return Strings.lowerCase(user.username());
    }

    @Override
    public void setUsername(String username) {
        if (!sameIgnoringCase(user.username(), username)) {
            throw readOnly(UserModel.USERNAME);
        }
    }

    @Override
    public String getEmail() {
        return Strings.lowerCase(user.email());
    }

    @Override
    public void setEmail(String email) {
        if (!sameIgnoringCase(user.email(), email)) {
            throw readOnly(UserModel.EMAIL);
        }
    }

    @Override
    public String getFirstName() {
        return user.firstName();
    }

    @Override
    public void setFirstName(String firstName) {
        if (!sameText(user.firstName(), firstName)) {
            throw readOnly(UserModel.FIRST_NAME);
        }
    }

    @Override
    public String getLastName() {
        return user.lastName();
    }

    @Override
    public void setLastName(String lastName) {
        if (!sameText(user.lastName(), lastName)) {
            throw readOnly(UserModel.LAST_NAME);
        }
    }

    /**
     * Enabled in the user database and not disabled in Keycloak. Keycloak may
     * disable a user on its own (brute-force permanent lockout, an admin during
     * an incident); that is kept in federated storage, never in the database.
     */
    @Override
    public boolean isEnabled() {
        return user.enabled() && !isDisabledInKeycloak();
    }

    /**
     * Disabling an enabled user marks them disabled in Keycloak only; enabling
     * lifts that mark. Enabling a user the database disables is a change to the
     * database and throws {@link ReadOnlyException}.
     */
    @Override
    public void setEnabled(boolean enabled) {
        if (enabled && !user.enabled()) {
            throw new ReadOnlyException("The field '" + UserModel.ENABLED + "' of user '" + getUsername()
                    + "' comes from the user database and is read-only in Keycloak: the user is disabled there"
                    + " and can only be enabled there.");
        }
        if (!user.enabled() || enabled != isDisabledInKeycloak()) {
            return; // nothing changes: already disabled by the database, or already in the wanted state
        }
        if (enabled) {
            getFederatedStorage().removeAttribute(realm, getId(), KEYCLOAK_DISABLED);
        } else {
            getFederatedStorage().setSingleAttribute(realm, getId(), KEYCLOAK_DISABLED, Boolean.FALSE.toString());
        }
        keycloakSide = null;
    }

    private boolean isDisabledInKeycloak() {
        return Boolean.FALSE.toString().equalsIgnoreCase(keycloakSide().getFirst(KEYCLOAK_DISABLED));
    }

    /** This session's copy of the user's attributes in federated storage. */
    private MultivaluedHashMap<String, String> keycloakSide() {
        if (keycloakSide == null) {
            MultivaluedHashMap<String, String> stored = getFederatedStorage().getAttributes(realm, getId());
            keycloakSide = new MultivaluedHashMap<>();
            if (stored != null) {
                stored.forEach((name, values) -> keycloakSide.put(name, List.copyOf(nonNull(values))));
            }
        }
        return keycloakSide;
    }

    private static List<String> nonNull(List<String> values) {
        return values == null ? List.of() : values.stream().filter(Objects::nonNull).toList();
    }

    @Override
    public boolean isEmailVerified() {
        return user.emailVerified();
    }

    @Override
    public void setEmailVerified(boolean verified) {
        if (verified != user.emailVerified()) {
            throw readOnly(UserModel.EMAIL_VERIFIED);
        }
    }

    @Override
    public Long getCreatedTimestamp() {
        return user.createdTimestamp();
    }

    @Override
    public void setCreatedTimestamp(Long timestamp) {
        if (!Objects.equals(user.createdTimestamp(), timestamp)) {
            throw readOnly("createdTimestamp");
        }
    }

    // Attributes: database fields answer from the gateway, the rest from federated storage.

    @Override
    public void setSingleAttribute(String name, String value) {
        requireNotInternal(name);
        if (isDatabaseField(name)) {
            requireUnchanged(name, value == null ? List.of() : List.of(value));
        } else {
            super.setSingleAttribute(name, value);
            keycloakSide = null;
        }
    }

    @Override
    public void setAttribute(String name, List<String> values) {
        requireNotInternal(name);
        if (isDatabaseField(name)) {
            requireUnchanged(name, values == null ? List.of() : values);
        } else {
            super.setAttribute(name, values);
            keycloakSide = null;
        }
    }

    @Override
    public void removeAttribute(String name) {
        requireNotInternal(name);
        if (isDatabaseField(name)) {
            requireUnchanged(name, List.of());
        } else {
            super.removeAttribute(name);
            keycloakSide = null;
        }
    }

    @Override
    public String getFirstAttribute(String name) {
        if (KEYCLOAK_DISABLED.equals(name)) {
            return null;
        }
        if (isDatabaseField(name)) {
            List<String> values = databaseValues(name);
            return values.isEmpty() ? null : values.get(0);
        }
        return keycloakSide().getFirst(mapAttribute(name));
    }

    @Override
    public Stream<String> getAttributeStream(String name) {
        if (KEYCLOAK_DISABLED.equals(name)) {
            return Stream.empty();
        }
        if (isDatabaseField(name)) {
            return databaseValues(name).stream();
        }
        return keycloakSide().getOrDefault(mapAttribute(name), List.of()).stream();
    }

    @Override
    public Map<String, List<String>> getAttributes() {
        MultivaluedHashMap<String, String> attributes = new MultivaluedHashMap<>();
        keycloakSide().forEach((name, values) -> attributes.put(name, new ArrayList<>(values)));
        attributes.remove(KEYCLOAK_DISABLED);
        user.attributes().forEach((name, values) -> attributes.put(name, new ArrayList<>(values)));
        // Like Keycloak's own user store: the root fields are always present, null if unset.
        attributes.putSingle(UserModel.USERNAME, getUsername());
        attributes.putSingle(UserModel.EMAIL, getEmail());
        attributes.putSingle(UserModel.FIRST_NAME, getFirstName());
        attributes.putSingle(UserModel.LAST_NAME, getLastName());
        return attributes;
    }

    // Required actions: Keycloak's own, in federated storage.

    @Override
    public Stream<String> getRequiredActionsStream() {
        if (requiredActions == null) {
            requiredActions = super.getRequiredActionsStream()
                    .collect(Collectors.toCollection(LinkedHashSet::new));
        }
        return requiredActions.stream();
    }

    @Override
    public void addRequiredAction(String action) {
        if (action != null && !requiredActionSet().contains(action)) {
            super.addRequiredAction(action);
            requiredActions = null;
        }
    }

    @Override
    public void addRequiredAction(RequiredAction action) {
        if (action != null) {
            addRequiredAction(action.name());
        }
    }

    /**
     * Removes the action if the user has it. Keycloak removes the profile check
     * at every login whose profile is complete; for a user without it that is
     * no call at all (as with Keycloak's user cache), instead of a locking
     * query and a flush of Keycloak's database session.
     */
    @Override
    public void removeRequiredAction(String action) {
        if (action != null && requiredActionSet().contains(action)) {
            super.removeRequiredAction(action);
            requiredActions = null;
        }
    }

    @Override
    public void removeRequiredAction(RequiredAction action) {
        if (action != null) {
            removeRequiredAction(action.name());
        }
    }

    private Set<String> requiredActionSet() {
        getRequiredActionsStream();
        return requiredActions;
    }

    // Roles

    @Override
    protected Set<RoleModel> getRoleMappingsInternal() {
        if (databaseRoles == null) {
            databaseRoles = resolveDatabaseRoles();
        }
        return databaseRoles;
    }

    @Override
    public void deleteRoleMapping(RoleModel role) {
        if (getRoleMappingsInternal().contains(role)) {
            throw new ReadOnlyException("Role '" + role.getName() + "' of user '" + getUsername()
                    + "' is granted by the user database and cannot be removed in Keycloak.");
        }
        super.deleteRoleMapping(role);
    }

    private Set<RoleModel> resolveDatabaseRoles() {
        Set<RoleModel> roles = new LinkedHashSet<>();
        String realmName = realm.getName();
        String username = getUsername();
        for (String name : user.realmRoles()) {
            RoleModel role = realm.getRole(name);
            if (role == null) {
                missingRoles.realmRoleMissing(realmName, username, name);
            } else {
                roles.add(role);
            }
        }
        user.clientRoles().forEach((clientId, names) -> {
            ClientModel client = realm.getClientByClientId(clientId);
            for (String name : names) {
                RoleModel role = client == null ? null : client.getRole(name);
                if (client == null) {
                    missingRoles.clientMissing(realmName, username, clientId, name);
                } else if (role == null) {
                    missingRoles.clientRoleMissing(realmName, username, clientId, name);
                } else {
                    roles.add(role);
                }
            }
        });
        return Collections.unmodifiableSet(roles);
    }

    // Helpers

    private boolean isDatabaseField(String name) {
        return UserModel.USERNAME.equals(name) || UserModel.EMAIL.equals(name)
                || UserModel.FIRST_NAME.equals(name) || UserModel.LAST_NAME.equals(name)
                || user.attributes().containsKey(name);
    }

    private List<String> databaseValues(String name) {
        return switch (name) {
            case UserModel.USERNAME -> listOf(getUsername());
            case UserModel.EMAIL -> listOf(getEmail());
            case UserModel.FIRST_NAME -> listOf(getFirstName());
            case UserModel.LAST_NAME -> listOf(getLastName());
            default -> user.attributes().getOrDefault(name, List.of());
        };
    }

    private static List<String> listOf(String value) {
        return value == null ? List.of() : List.of(value);
    }

    private void requireUnchanged(String name, List<String> proposed) {
        List<String> current = meaningful(databaseValues(name));
        List<String> wanted = meaningful(proposed);
        boolean caseInsensitive = UserModel.USERNAME.equals(name) || UserModel.EMAIL.equals(name);
        if (caseInsensitive) {
            current = current.stream().map(Strings::lowerCase).toList();
            wanted = wanted.stream().map(Strings::lowerCase).toList();
        }
        boolean same = current.size() == wanted.size() && current.containsAll(wanted) && wanted.containsAll(current);
        if (!same) {
            throw readOnly(name);
        }
    }

    /** Values without nulls and blanks, which Keycloak treats as "no value". */
    private static List<String> meaningful(List<String> values) {
        return values.stream().filter(value -> value != null && !value.isBlank()).toList();
    }

    private void requireNotInternal(String name) {
        if (KEYCLOAK_DISABLED.equals(name)) {
            throw new ReadOnlyException("The attribute '" + name + "' of user '" + getUsername()
                    + "' is internal to the userstore-gateway provider; use the enabled switch instead.");
        }
    }

    private ReadOnlyException readOnly(String field) {
        return new ReadOnlyException("The field '" + field + "' of user '" + getUsername()
                + "' comes from the user database and is read-only in Keycloak.");
    }

    private static boolean sameIgnoringCase(String current, String proposed) {
        String a = Strings.blankToNull(current);
        String b = Strings.blankToNull(proposed);
        return a == null ? b == null : a.equalsIgnoreCase(b);
    }

    private static boolean sameText(String current, String proposed) {
        return Objects.equals(Strings.blankToNull(current), Strings.blankToNull(proposed));
    }
}
