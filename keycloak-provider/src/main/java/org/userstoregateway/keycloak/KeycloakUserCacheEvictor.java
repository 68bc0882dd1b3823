package org.userstoregateway.keycloak;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.SubjectCredentialManager;
import org.keycloak.models.cache.UserCache;
import org.keycloak.storage.adapter.AbstractInMemoryUserAdapter;

/**
 * Evicts through Keycloak's {@link UserCache}, which invalidates the user's
 * entries by id, username and email on every node of the cluster when the
 * transaction commits.
 */
final class KeycloakUserCacheEvictor implements UserCacheEvictor {

    private final SessionJobs jobs;

    KeycloakUserCacheEvictor(SessionJobs jobs) {
        this.jobs = jobs;
    }

    @Override
    public void evict(List<CachedUsers.Entry> users) {
        if (users.isEmpty()) {
            return;
        }
        jobs.run(session -> {
            UserCache cache = session.getProvider(UserCache.class);
            if (cache == null) {
                return; // the user cache is turned off: nothing is cached, nothing to evict
            }
            Map<String, Optional<RealmModel>> realms = new HashMap<>();
            for (CachedUsers.Entry user : users) {
                Optional<RealmModel> realm = realms.computeIfAbsent(user.realmId(),
                        id -> Optional.ofNullable(session.realms().getRealm(id)));
                // A removed realm took its cached users with it.
                realm.ifPresent(r -> cache.evict(r, new EvictedUser(session, r, user)));
            }
        });
    }

    @Override
    public boolean componentExists(String realmId, String componentId) {
        boolean[] exists = {false};
        jobs.run(session -> {
            RealmModel realm = session.realms().getRealm(realmId);
            exists[0] = realm != null && realm.getComponent(componentId) != null;
        });
        return exists[0];
    }

    /**
     * Names a cached user for {@link UserCache#evict(RealmModel, org.keycloak.models.UserModel)}
     * without loading it: for a user that is not a cached instance, Keycloak's
     * cache reads only its id, username and email. Loading the real user instead
     * would ask the gateway once per eviction.
     */
    static final class EvictedUser extends AbstractInMemoryUserAdapter {

        private final String username;
        private final String email;

        EvictedUser(KeycloakSession session, RealmModel realm, CachedUsers.Entry user) {
            super(session, realm, user.keycloakId());
            this.username = user.username();
            this.email = user.email();
        }

        @Override
        public String getUsername() {
            return username;
        }

        @Override
        public String getEmail() {
            return email;
        }

        @Override
        public SubjectCredentialManager credentialManager() {
            throw new UnsupportedOperationException("a user named for eviction has no credentials");
        }
    }
}
