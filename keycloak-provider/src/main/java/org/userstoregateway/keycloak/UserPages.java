package org.userstoregateway.keycloak;

import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.jboss.logging.Logger;

/**
 * Walks the gateway's search results page by page, fetching the next page
 * only when the stream is read that far. The gateway caps a page (100 by
 * default, configurable there), so a page shorter than asked proves the end
 * only when the ask was within a page size already seen; otherwise one more
 * page is asked for. A failing page ends the listing with a WARN instead of
 * throwing into Keycloak's stream.
 */
final class UserPages implements Iterator<GatewayUser> {

    private static final Logger LOG = Logger.getLogger(UserPages.class);

    /** Page size when the caller wants everything: the gateway's default cap. */
    static final int OPEN_ENDED_PAGE = 100;
    /** Largest single ask, so a huge maxResults does not turn into one huge request. */
    static final int MAX_PAGE = 1000;

    private final GatewayClient client;
    private final String componentName;
    private final String search;
    private int offset;
    /** Users still wanted, or -1 for all of them. */
    private long remaining;
    private Iterator<GatewayUser> page = Collections.emptyIterator();
    private boolean done;

    private UserPages(GatewayClient client, String componentName, String search, int first, long limit) {
        this.client = client;
        this.componentName = componentName;
        this.search = search;
        this.offset = Math.max(first, 0);
        this.remaining = limit < 0 ? -1 : limit;
    }

    /**
     * The users matching {@code search}, from {@code first} on, at most {@code limit}
     * of them ({@code -1}: all), in the gateway's order. {@code componentName} labels log lines.
     */
    static Stream<GatewayUser> stream(GatewayClient client, String componentName, String search, int first,
                                      long limit) {
        UserPages pages = new UserPages(client, componentName, search, first, limit);
        return StreamSupport.stream(
                Spliterators.spliteratorUnknownSize(pages, Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    @Override
    public boolean hasNext() {
        while (!page.hasNext() && !done) {
            fetchNextPage();
        }
        return page.hasNext();
    }

    @Override
    public GatewayUser next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return page.next();
    }

    private void fetchNextPage() {
        if (remaining == 0) {
            done = true;
            return;
        }
        int ask = remaining < 0 ? OPEN_ENDED_PAGE : (int) Math.min(remaining, MAX_PAGE);
        int provenCap = client.largestPageSeen();
        List<GatewayUser> users;
        try {
            users = client.searchUsers(search, offset, ask);
        } catch (GatewayException e) {
            LOG.logf(GatewayStorageProvider.level(e), "userstore-gateway '%s': searching users failed, the result"
                    + " list ends here: %s", componentName, e.getMessage());
            done = true;
            return;
        }
        if (users.size() > ask) {
            users = users.subList(0, ask);
        }
        offset += users.size();
        if (remaining > 0) {
            remaining -= users.size();
        }
        done = users.isEmpty() || (users.size() < ask && ask <= provenCap);
        page = users.iterator();
    }
}
