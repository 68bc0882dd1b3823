package org.userstoregateway.keycloak;

import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

import org.keycloak.component.ComponentValidationException;

/**
 * TLS towards the gateway: builds the {@link SSLContext} from the PEM settings
 * and turns the JDK's TLS exceptions into messages that say what to check.
 *
 * <p>Without any PEM setting the JDK default context is used; in Keycloak that
 * trusts the Java CA certificates plus Keycloak's own truststore
 * ({@code conf/truststores}, {@code --truststore-paths}). Hostname
 * verification is always on: the HTTP client checks each gateway's certificate
 * against the host of its URL. One context serves every gateway URL.
 */
final class GatewayTls {

    /** In-memory stores only; the password protects nothing on disk. */
    private static final char[] STORE_PASSWORD = "in-memory".toCharArray();

    /** Alerts a TLS server sends when it does not accept the client (certificate) it sees. */
    private static final Set<String> CLIENT_REFUSED_ALERTS = Set.of("certificate_required", "bad_certificate",
            "handshake_failure", "unknown_ca", "certificate_unknown", "access_denied", "certificate_expired",
            "certificate_revoked", "unsupported_certificate");

    private GatewayTls() {
    }

    /**
     * The context for the configured trust anchors and client certificate, or
     * empty when neither is set (the JDK default then applies).
     *
     * @throws ComponentValidationException naming the setting that cannot be used
     */
    static Optional<SSLContext> sslContext(GatewayConfig config) {
        if (config.trustedCaPem() == null && config.clientCertificatePem() == null) {
            return Optional.empty();
        }
        try {
            TrustManager[] trust = trustManagers(config.trustedCaPem());
            KeyManager[] keys = config.clientCertificatePem() == null ? null
                    : keyManagers(config.clientCertificatePem(), config.clientKeyPem());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            return Optional.of(context);
        } catch (GeneralSecurityException e) {
            throw new ComponentValidationException("The TLS settings cannot be used ({0}).",
                    e.getClass().getSimpleName());
        }
    }

    /** Trust managers for the given CA certificates, or the JDK default ones for {@code null}. */
    private static TrustManager[] trustManagers(String caPem) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (caPem == null) {
            factory.init((KeyStore) null);
            return factory.getTrustManagers();
        }
        List<X509Certificate> cas = Pem.certificates(caPem, GatewayConfig.TRUSTED_CA_PEM);
        KeyStore store = emptyStore();
        for (int i = 0; i < cas.size(); i++) {
            store.setCertificateEntry("ca-" + i, cas.get(i));
        }
        factory.init(store);
        return factory.getTrustManagers();
    }

    /** Key managers presenting the given chain (client certificate first) with its private key. */
    static KeyManager[] keyManagers(String chainPem, String keyPem) throws GeneralSecurityException {
        List<X509Certificate> chain = Pem.certificates(chainPem, GatewayConfig.CLIENT_CERTIFICATE_PEM);
        PrivateKey key = Pem.privateKey(keyPem, GatewayConfig.CLIENT_KEY_PEM);
        if (!Pem.isPair(key, chain.get(0).getPublicKey())) {
            throw new ComponentValidationException("The private key in " + GatewayConfig.CLIENT_KEY_PEM
                    + " does not belong to the first certificate in " + GatewayConfig.CLIENT_CERTIFICATE_PEM
                    + " (the client certificate must come first, followed by any intermediate CA certificates).");
        }
        KeyStore store = emptyStore();
        store.setKeyEntry("client", key, STORE_PASSWORD, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, STORE_PASSWORD);
        return factory.getKeyManagers();
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, STORE_PASSWORD);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create an empty in-memory key store", e);
        }
        return store;
    }

    /**
     * What a failed call's exception says about TLS, as advice for the admin,
     * or {@code null} if it is not a TLS problem.
     *
     * @param url the base URL of the gateway the call went to
     */
    static String explain(Throwable failure, GatewayConfig config, URI url) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            // Looked for first: an expired certificate also fails the path validation below.
            if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
                return "the gateway's TLS certificate (or one of its CA certificates) has expired or is not yet"
                        + " valid (" + t.getMessage() + ")";
            }
        }
        SSLException ssl = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                return "the gateway's TLS certificate is not trusted (check " + GatewayConfig.TRUSTED_CA_PEM + ")";
            }
            String message = t.getMessage() == null ? "" : t.getMessage();
            if (message.startsWith("No subject alternative") || message.startsWith("No name matching")) {
                return "the gateway's TLS certificate is not issued for host " + url.getHost()
                        + " (hostname verification: " + message + ")";
            }
            if (ssl == null && t instanceof SSLException sslException) {
                ssl = sslException;
            }
        }
        if (ssl == null) {
            return closedAfterHandshake(failure, url) ? closedWithoutAnswer(config) : null;
        }
        String message = ssl.getMessage() == null ? "" : ssl.getMessage();
        String alert = receivedAlert(message);
        if (alert != null && CLIENT_REFUSED_ALERTS.contains(alert)) {
            if (config.clientCertificatePem() == null) {
                return "the gateway refused the TLS handshake (alert " + alert + "; does it require a client"
                        + " certificate? set " + GatewayConfig.CLIENT_CERTIFICATE_PEM + " and "
                        + GatewayConfig.CLIENT_KEY_PEM + ")";
            }
            return "the gateway refused the TLS handshake (alert " + alert + "; does it trust the CA that issued the"
                    + " client certificate in " + GatewayConfig.CLIENT_CERTIFICATE_PEM + ", and is it still valid?)";
        }
        if (alert != null) {
            return "the gateway refused the TLS handshake (alert " + alert + ")";
        }
        if (message.contains("nrecognized SSL message") || message.contains("plaintext connection")) {
            return "the gateway did not answer with TLS (is it serving plain http? then use an http:// gateway URL)";
        }
        return "TLS with the gateway failed (" + ssl.getClass().getSimpleName() + ": " + message + ")";
    }

    /**
     * Whether an https connection ended before the first byte of an answer. With
     * TLS 1.3 a server checks the client certificate only after the client has
     * finished its side of the handshake; its refusal then reaches the JDK's
     * HTTP client as a closed connection, not as a TLS alert.
     */
    private static boolean closedAfterHandshake(Throwable failure, URI url) {
        if (!"https".equalsIgnoreCase(url.getScheme())) {
            return false;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("received no bytes")) {
                return true;
            }
        }
        return false;
    }

    private static String closedWithoutAnswer(GatewayConfig config) {
        if (config.clientCertificatePem() == null) {
            return "the gateway refused the TLS connection, closing it without an answer (does it require a client"
                    + " certificate? set " + GatewayConfig.CLIENT_CERTIFICATE_PEM + " and "
                    + GatewayConfig.CLIENT_KEY_PEM + ")";
        }
        return "the gateway refused the TLS connection, closing it without an answer (does it trust the CA that"
                + " issued the client certificate in " + GatewayConfig.CLIENT_CERTIFICATE_PEM
                + ", and is it still valid?)";
    }

    /** The alert name in the JDK's "Received fatal alert: name" messages. */
    private static String receivedAlert(String message) {
        String marker = "Received fatal alert: ";
        int at = message.indexOf(marker);
        if (at < 0) {
            return null;
        }
        String rest = message.substring(at + marker.length()).strip();
        int end = 0;
        while (end < rest.length() && (Character.isLetterOrDigit(rest.charAt(end)) || rest.charAt(end) == '_')) {
            end++;
        }
        return Strings.lowerCase(rest.substring(0, end));
    }
}
