package io.edgesync.security;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A private key and the certificate for its public key, as the CA issues them. */
public record KeyAndCertificate(PrivateKey privateKey, X509Certificate certificate) {}
