package org.userstoregateway.keycloak;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Throw-away certificates for the TLS tests, made at test time with the JDK's
 * own {@code keytool} (so nothing but the JDK is needed) in a temporary
 * directory: a CA, a server certificate for 127.0.0.1 and localhost, a server
 * certificate for another name, a client certificate, and a second CA that
 * signed none of them. Keys are EC P-256, which keeps keytool fast.
 */
final class TestPki {

    private static final String PASSWORD = "test-only";

    final String caPem;
    final String otherCaPem;
    final String serverPem;
    final String serverKeyPem;
    final String wrongNameServerPem;
    final String clientPem;
    final String clientKeyPem;

    private final X509Certificate ca;
    private final PrivateKey serverKey;

    private TestPki(Path dir) throws IOException, GeneralSecurityException, InterruptedException {
        genkeypair(dir, "ca", "CN=userstore-gateway test CA", "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign");
        genkeypair(dir, "other-ca", "CN=some other CA", "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign");
        genkeypair(dir, "server", "CN=127.0.0.1");
        genkeypair(dir, "client", "CN=keycloak");
        certreq(dir, "server");
        certreq(dir, "client");
        gencert(dir, "server", "server.pem", "san=ip:127.0.0.1,dns:localhost", "eku=serverAuth");
        gencert(dir, "server", "wrong-name.pem", "san=dns:gateway.example.test", "eku=serverAuth");
        gencert(dir, "client", "client.pem", "eku=clientAuth");

        ca = (X509Certificate) load(dir, "ca").getCertificate("ca");
        caPem = pem(ca);
        otherCaPem = pem(load(dir, "other-ca").getCertificate("other-ca"));
        serverPem = Files.readString(dir.resolve("server.pem"));
        wrongNameServerPem = Files.readString(dir.resolve("wrong-name.pem"));
        clientPem = Files.readString(dir.resolve("client.pem"));
        serverKey = (PrivateKey) key(dir, "server");
        serverKeyPem = pem((PrivateKey) key(dir, "server"));
        clientKeyPem = pem((PrivateKey) key(dir, "client"));
    }

    static TestPki create(Path dir) {
        try {
            return new TestPki(dir);
        } catch (IOException | GeneralSecurityException | InterruptedException e) {
            throw new IllegalStateException("could not make the test certificates with keytool", e);
        }
    }

    /**
     * A server context presenting {@code serverCertPem} (with the CA behind it)
     * and trusting client certificates issued by the CA.
     */
    SSLContext serverContext(String serverCertPem) {
        try {
            List<Certificate> chain = new ArrayList<>(certificates(serverCertPem));
            chain.add(ca);
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", serverKey, PASSWORD.toCharArray(), chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASSWORD.toCharArray());
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String pem(Certificate certificate) throws GeneralSecurityException {
        return block("CERTIFICATE", certificate.getEncoded());
    }

    static String pem(PrivateKey key) {
        return block("PRIVATE KEY", key.getEncoded()); // the JDK encodes private keys as PKCS#8
    }

    private static String block(String type, byte[] der) {
        String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
    }

    private static List<? extends Certificate> certificates(String pem) throws GeneralSecurityException {
        return new ArrayList<>(CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
    }

    private static KeyStore load(Path dir, String name) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(name + ".p12"))) {
            store.load(in, PASSWORD.toCharArray());
        }
        return store;
    }

    private static Key key(Path dir, String name) throws IOException, GeneralSecurityException {
        return load(dir, name).getKey(name, PASSWORD.toCharArray());
    }

    private static void genkeypair(Path dir, String name, String dname, String... extensions)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", name, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", dname, "-validity", "2"));
        args.addAll(List.of(extensions));
        args.addAll(store(dir, name));
        keytool(dir, args);
    }

    private static void certreq(Path dir, String name) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-certreq", "-alias", name, "-file", name + ".csr"));
        args.addAll(store(dir, name));
        keytool(dir, args);
    }

    private static void gencert(Path dir, String name, String out, String... extensions)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-infile", name + ".csr",
                "-outfile", out, "-rfc", "-validity", "2"));
        for (String extension : extensions) {
            args.add("-ext");
            args.add(extension);
        }
        args.addAll(store(dir, "ca"));
        keytool(dir, args);
    }

    private static List<String> store(Path dir, String name) {
        return List.of("-keystore", dir.resolve(name + ".p12").toString(), "-storetype", "PKCS12",
                "-storepass", PASSWORD, "-keypass", PASSWORD);
    }

    private static void keytool(Path dir, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        // Short-lived JVMs: skip the optimising compiler.
        command.add("-J-XX:TieredStopAtLevel=1");
        command.add("-noprompt");
        command.addAll(args);
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("keytool did not finish: " + command);
        }
        if (process.exitValue() != 0) {
            throw new IOException("keytool failed (" + process.exitValue() + "): " + command + "\n" + output);
        }
    }
}
