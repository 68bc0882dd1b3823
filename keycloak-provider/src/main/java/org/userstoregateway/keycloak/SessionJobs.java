package org.userstoregateway.keycloak;

import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.KeycloakSessionTask;
import org.keycloak.models.utils.KeycloakModelUtils;

/**
 * Runs a task in a Keycloak session and transaction of its own, as background
 * work must. A seam for tests: {@link KeycloakModelUtils} cannot even be loaded
 * without the JTA classes, which only the Keycloak server has.
 */
@FunctionalInterface
interface SessionJobs {

    void run(KeycloakSessionTask task);

    static SessionJobs of(KeycloakSessionFactory sessionFactory) {
        return task -> KeycloakModelUtils.runJobInTransaction(sessionFactory, task);
    }
}
