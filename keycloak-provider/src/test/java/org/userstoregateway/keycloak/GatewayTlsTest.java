package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.text.MessageFormat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;

/** HTTPS and mutual TLS against an in-JVM HTTPS stub, with certificates made by keytool for this run. */
class GatewayTlsTest {

    @TempDir
    static Path certificates;

    private static TestPki pki;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(certificates);
    }

    private static ComponentModel component(StubGateway gateway, String caPem, String clientPem, String keyPem) {
        ComponentModel model = gateway.component();
        // A first TLS handshake in a cold JVM on a busy machine can take longer than the stub's usual 500 ms.
        model.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, "10000");
        set(model, GatewayConfig.TRUSTED_CA_PEM, caPem);
        set(model, GatewayConfig.CLIENT_CERTIFICATE_PEM, clientPem);
        set(model, GatewayConfig.CLIENT_KEY_PEM, keyPem);
        return model;
    }

    private static void set(ComponentModel model, String key, String value) {
        if (value != null) {
            model.getConfig().putSingle(key, value);
        }
    }

    private static GatewayClient client(ComponentModel model) {
        return new GatewayClient(GatewayConfig.from(model));
    }

    private static String shown(ComponentValidationException e) {
        return MessageFormat.format(e.getMessage(), e.getParameters());
    }

    private static void validate(ComponentModel model) {
        new GatewayStorageProviderFactory().validateConfiguration(null, null, model);
    }

    // Talking to the gateway

    @Test
    void trustedCa_serverCertificateFromIt_works() {
        try (StubGateway gateway = new StubGateway(pki.serverContext(pki.serverPem), false);
             GatewayClient client = client(component(gateway, pki.caPem, null, null))) {
            gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));

            assertTrue(gateway.url().startsWith("https://127.0.0.1:"), gateway.url());
            assertEquals("mmustermann", client.userById("1").orElseThrow().username());
        }
    }

    @Test
    void unknownCa_isRefusedWithAClearMessage() {
        try (StubGateway gateway = new StubGateway(pki.serverContext(pki.serverPem), false);
             GatewayClient client = client(component(gateway, pki.otherCaPem, null, null))) {

            GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

            assertTrue(e.getMessage().startsWith("the gateway's TLS certificate is not trusted (check trustedCaPem);"
                    + " GET /v1/users/1 at https://127.0.0.1:"), e.getMessage());
            assertTrue(gateway.requests().isEmpty());
        }
    }

    @Test
    void noTrustedCa_usesTheJvmTrustStoreWhichDoesNotKnowTheTestCa() {
        try (StubGateway gateway = new StubGateway(pki.serverContext(pki.serverPem), false);
             GatewayClient client = client(component(gateway, null, null, null))) {

            GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

            assertTrue(e.getMessage().startsWith("the gateway's TLS certificate is not trusted"), e.getMessage());
        }
    }

    @Test
    void certificateForAnotherHost_isRefusedByHostnameVerification() {
        try (StubGateway gateway = new StubGateway(pki.serverContext(pki.wrongNameServerPem), false);
             GatewayClient client = client(component(gateway, pki.caPem, null, null))) {

            GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

            assertTrue(e.getMessage().startsWith("the gateway's TLS certificate is not issued for host 127.0.0.1"),
                    e.getMessage());
        }
    }

    @Test
    void clientCertificateRequired_configuredCertificate_isAccepted() {
        try (StubGateway gateway = new StubGateway(pki.serverContext(pki.serverPem), true);
             GatewayClient client = client(component(gateway, pki.caPem, pki.clientPem, pki.clientKeyPem))) {
            gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));

            assertEquals("mmustermann", client.userById("1").orElseThrow().username());
        }
    }

    @Test
    void clientCertificateRequired_noClientCertificate_isRefusedWithAClearMessage() {
        try (StubGateway gateway = new StubGateway(pki.serverContext(pki.serverPem), true);
             GatewayClient client = client(component(gateway, pki.caPem, null, null))) {

            GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

            // With TLS 1.3 the refusal comes after the client's side of the handshake: as an alert, or, as the
            // JDK's HTTP client mostly sees it, as a connection closed before any answer.
            assertTrue(e.getMessage().startsWith("the gateway refused the TLS "), e.getMessage());
            assertTrue(e.getMessage().contains("does it require a client certificate? set clientCertificatePem"
                    + " and clientKeyPem"), e.getMessage());
            assertTrue(gateway.requests().isEmpty());
        }
    }

    @Test
    void httpsUrl_plainHttpServer_saysSo() throws Exception {
        // A plain HTTP server answers the TLS greeting with a plain 400, as the gateway's HTTP server does.
        try (ServerSocket plain = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket socket = plain.accept()) {
                    socket.getInputStream().read(new byte[512]);
                    socket.getOutputStream().write(
                            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // the test's assertions tell
                }
            });
            server.setDaemon(true);
            server.start();
            ComponentModel model = httpsModel();
            model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, "https://127.0.0.1:" + plain.getLocalPort());
            try (GatewayClient client = client(model)) {

                GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

                assertTrue(e.getMessage().startsWith("the gateway did not answer with TLS"), e.getMessage());
            }
        }
    }

    // Validating the settings

    private static ComponentModel httpsModel() {
        ComponentModel model = new ComponentModel();
        model.setId("c1");
        model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, "https://127.0.0.1:8443");
        model.getConfig().putSingle(GatewayConfig.API_TOKEN, "tok");
        return model;
    }

    @Test
    void validate_completeTlsSettings_areAccepted() {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.TRUSTED_CA_PEM, "# our CA\n" + pki.caPem + pki.otherCaPem);
        model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem + pki.caPem);
        model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, pki.clientKeyPem);

        validate(model);
    }

    @ParameterizedTest
    @ValueSource(strings = {"not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"})
    void validate_unreadableCaPem_isRefusedNamingTheSetting(String pem) {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.TRUSTED_CA_PEM, pem);

        ComponentValidationException e = assertThrows(ComponentValidationException.class, () -> validate(model));

        assertTrue(shown(e).startsWith("The setting trustedCaPem"), shown(e));
    }

    @Test
    void validate_keyWithoutCertificateOrTheReverse_isRefused() {
        ComponentModel keyOnly = httpsModel();
        keyOnly.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, pki.clientKeyPem);
        ComponentModel certificateOnly = httpsModel();
        certificateOnly.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem);

        ComponentValidationException first = assertThrows(ComponentValidationException.class, () -> validate(keyOnly));
        ComponentValidationException second = assertThrows(ComponentValidationException.class,
                () -> validate(certificateOnly));

        assertEquals("The settings clientCertificatePem and clientKeyPem go together: clientKeyPem is set,"
                + " clientCertificatePem is empty.", shown(first));
        assertEquals("The settings clientCertificatePem and clientKeyPem go together: clientCertificatePem is set,"
                + " clientKeyPem is empty.", shown(second));
        assertFalse(shown(first).contains(body(pki.clientKeyPem).substring(0, 20)));
    }

    @Test
    void validate_keyOfAnotherCertificate_isRefusedWithoutShowingIt() {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem);
        model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, pki.serverKeyPem);

        ComponentValidationException e = assertThrows(ComponentValidationException.class, () -> validate(model));

        assertTrue(shown(e).startsWith("The private key in clientKeyPem does not belong to the first certificate"),
                shown(e));
        assertNoKeyMaterial(shown(e), pki.serverKeyPem);
    }

    @Test
    void validate_brokenKey_isRefusedWithoutQuotingIt() {
        String body = body(pki.clientKeyPem);
        String broken = "-----BEGIN PRIVATE KEY-----\n" + body.substring(0, 40) + "%%" + body.substring(40)
                + "\n-----END PRIVATE KEY-----";
        String truncated = "-----BEGIN PRIVATE KEY-----\n" + body.substring(0, 48) + "\n-----END PRIVATE KEY-----";
        for (String key : new String[] {broken, truncated, pki.clientPem}) {
            ComponentModel model = httpsModel();
            model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem);
            model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, key);

            ComponentValidationException e = assertThrows(ComponentValidationException.class, () -> validate(model));

            assertTrue(shown(e).startsWith("The setting clientKeyPem"), shown(e));
            assertNoKeyMaterial(shown(e), pki.clientKeyPem);
        }
    }

    @Test
    void validate_pkcs1Key_isRefusedWithAConversionHint() {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem);
        model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM,
                "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----");

        ComponentValidationException e = assertThrows(ComponentValidationException.class, () -> validate(model));

        assertTrue(shown(e).contains("PKCS#1 or SEC1") && shown(e).contains("openssl pkcs8 -topk8 -nocrypt"),
                shown(e));
    }

    @Test
    void validate_keyPastedIntoTheCertificateSetting_isRefusedWithoutShowingIt() {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem + pki.clientKeyPem);
        model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, pki.clientKeyPem);

        ComponentValidationException e = assertThrows(ComponentValidationException.class, () -> validate(model));

        assertEquals("The setting clientCertificatePem must hold only certificates, but it holds a PRIVATE KEY block.",
                shown(e));
    }

    @Test
    void validate_tlsSettingsWithHttpUrl_areRefused() {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, "http://127.0.0.1:8080");
        model.getConfig().putSingle(GatewayConfig.TRUSTED_CA_PEM, pki.caPem);

        ComponentValidationException e = assertThrows(ComponentValidationException.class, () -> validate(model));

        assertTrue(shown(e).contains("only apply to an https:// gateway URL; got: http://127.0.0.1:8080"), shown(e));
    }

    @Test
    void privateKey_rsaAndEcPkcs8_areRead() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp384r1"));

        PrivateKey rsaKey = Pem.privateKey(TestPki.pem(rsa.generateKeyPair().getPrivate()), "clientKeyPem");
        PrivateKey ecKey = Pem.privateKey(TestPki.pem(ec.generateKeyPair().getPrivate()), "clientKeyPem");

        assertEquals("RSA", rsaKey.getAlgorithm());
        assertEquals("EC", ecKey.getAlgorithm());
    }

    @Test
    void toString_withClientKey_neverShowsIt() {
        ComponentModel model = httpsModel();
        model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, pki.clientPem);
        model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, pki.clientKeyPem);

        String text = GatewayConfig.from(model).toString();

        assertTrue(text.contains("clientKeyPem=(set)"), text);
        assertNoKeyMaterial(text, pki.clientKeyPem);
    }

    private static String body(String pem) {
        return pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s+", "");
    }

    /** No 12-character piece of the key's Base64 text appears in {@code text}. */
    private static void assertNoKeyMaterial(String text, String keyPem) {
        String body = body(keyPem);
        for (int i = 0; i + 12 <= body.length(); i++) {
            assertFalse(text.contains(body.substring(i, i + 12)), "key material in: " + text);
        }
    }
}
