package org.userstoregateway.keycloak;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.keycloak.component.ComponentValidationException;

/**
 * Reads the PEM settings of the provider with JDK classes only.
 *
 * <p>Text around and between PEM blocks (comments, the "Bag Attributes" lines
 * openssl writes) is ignored. Failures are {@link ComponentValidationException}s
 * naming the setting; they describe what is wrong with a key without ever
 * quoting it. Messages avoid apostrophes and braces, as Keycloak formats them
 * with {@link java.text.MessageFormat}.
 */
final class Pem {

    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

    static final String CERTIFICATE = "CERTIFICATE";
    static final String PRIVATE_KEY = "PRIVATE KEY";

    /** Key algorithms tried in this order on a PKCS#8 key. */
    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "EdDSA"};

    record Block(String type, byte[] der) {
    }

    private Pem() {
    }

    /** The PEM blocks of {@code text}, in order. */
    static List<Block> blocks(String text, String setting) {
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = BLOCK.matcher(text);
        while (matcher.find()) {
            String type = matcher.group(1).strip();
            String base64 = matcher.group(2).replaceAll("\\s+", "");
            byte[] der;
            try {
                der = Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                // No detail: for a key, the decoder message could quote part of it.
                throw new ComponentValidationException("The setting " + setting + " holds a " + type
                        + " block whose content is not valid Base64.");
            }
            blocks.add(new Block(type, der));
        }
        return blocks;
    }

    /** One or more X.509 certificates; any other kind of block is refused. */
    static List<X509Certificate> certificates(String text, String setting) {
        List<Block> blocks = blocks(text, setting);
        if (blocks.isEmpty()) {
            throw new ComponentValidationException("The setting " + setting + " must hold one or more PEM"
                    + " certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----).");
        }
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
        List<X509Certificate> certificates = new ArrayList<>();
        for (Block block : blocks) {
            if (!CERTIFICATE.equals(block.type())) {
                throw new ComponentValidationException("The setting " + setting + " must hold only certificates,"
                        + " but it holds a " + block.type() + " block.");
            }
            try {
                certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
            } catch (CertificateException | ClassCastException e) {
                throw new ComponentValidationException("The setting " + setting + ": certificate number "
                        + (certificates.size() + 1) + " cannot be read ({0}).", String.valueOf(e.getMessage()));
            }
        }
        return certificates;
    }

    /** Exactly one unencrypted PKCS#8 private key (RSA, EC or EdDSA). */
    static PrivateKey privateKey(String text, String setting) {
        List<Block> blocks = blocks(text, setting);
        if (blocks.size() != 1 || !PRIVATE_KEY.equals(blocks.get(0).type())) {
            throw new ComponentValidationException(keyShapeProblem(blocks, setting));
        }
        byte[] der = blocks.get(0).der();
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                // Not this algorithm; try the next.
            }
        }
        throw new ComponentValidationException("The setting " + setting + " holds a PRIVATE KEY block that is not"
                + " a readable RSA or EC key in PKCS#8 form.");
    }

    private static String keyShapeProblem(List<Block> blocks, String setting) {
        String expected = " It must hold one unencrypted PKCS#8 private key"
                + " (-----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----).";
        if (blocks.isEmpty()) {
            return "The setting " + setting + " holds no PEM block." + expected;
        }
        if (blocks.size() > 1) {
            return "The setting " + setting + " holds " + blocks.size() + " PEM blocks." + expected;
        }
        String type = blocks.get(0).type();
        if (type.equals("RSA PRIVATE KEY") || type.equals("EC PRIVATE KEY")) {
            return "The setting " + setting + " holds a " + type + " block (PKCS#1 or SEC1 form)." + expected
                    + " Convert it with: openssl pkcs8 -topk8 -nocrypt -in key.pem";
        }
        if (type.equals("ENCRYPTED PRIVATE KEY")) {
            return "The setting " + setting + " holds an encrypted key." + expected
                    + " Decrypt it with: openssl pkcs8 -topk8 -nocrypt -in key.pem";
        }
        return "The setting " + setting + " holds a " + type + " block." + expected;
    }

    /**
     * Whether {@code key} is the private half of {@code publicKey}: a test
     * signature made with one must verify with the other.
     */
    static boolean isPair(PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // EdDSA, Ed25519, Ed448 name their own signature
        };
        byte[] probe = "userstore-gateway key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
