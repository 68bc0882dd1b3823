package org.userstoregateway.keycloak;

import java.time.Duration;
import java.util.List;

import org.jboss.logging.Logger;

/**
 * The safety net under the change feed: evicts every cached user of this
 * provider that has been in Keycloak's user cache for its component's
 * {@code maxStalenessMs}, whether or not a feed is followed or working. Run
 * once a second by the factory's scheduler, one transaction per sweep, none
 * when nothing is due.
 *
 * <p>A failed sweep keeps its users for the next one, with one WARN when
 * sweeps start failing and one INFO when they work again.
 */
final class StaleUserSweeper implements Runnable {

    private static final Logger LOG = Logger.getLogger(StaleUserSweeper.class);

    /** How often the factory runs a sweep; users due before the next one go now. */
    static final Duration PERIOD = Duration.ofSeconds(1);

    private final CachedUsers cachedUsers;
    private final UserCacheEvictor evictor;
    /** Only the scheduler's single thread runs sweeps. */
    private boolean failing;

    StaleUserSweeper(CachedUsers cachedUsers, UserCacheEvictor evictor) {
        this.cachedUsers = cachedUsers;
        this.evictor = evictor;
    }

    @Override
    public void run() {
        List<CachedUsers.Entry> stale = cachedUsers.takeStale(PERIOD.toMillis());
        if (stale.isEmpty()) {
            return;
        }
        try {
            evictor.evict(stale);
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again, so nothing may escape.
            cachedUsers.putBack(stale);
            if (!failing) {
                LOG.warnf(e, "userstore-gateway: evicting %d users cached for longer than maxStalenessMs failed;"
                        + " retrying every second", stale.size());
                failing = true;
            } else {
                LOG.debugf("userstore-gateway: evicting users cached for longer than maxStalenessMs still fails: %s",
                        e);
            }
            return;
        }
        if (failing) {
            LOG.infof("userstore-gateway: evicting users cached for longer than maxStalenessMs works again");
            failing = false;
        }
        LOG.debugf("userstore-gateway: evicted %d users cached for longer than maxStalenessMs", stale.size());
    }
}
