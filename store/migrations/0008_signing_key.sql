-- Plumb store schema, version 8: the report signing key. One row (id 1):
-- the certificate (PEM) and its private key sealed by the server's secret
-- key, so every replica signs with the same certificate. The first
-- replica to need one creates it; a key supplied by the operator
-- (plumb server --signing-cert/--signing-key) is used instead and never
-- stored.
CREATE TABLE signing_key (
	id INTEGER PRIMARY KEY,
	cert TEXT NOT NULL,
	sealed_key @BLOB@ NOT NULL,
	created BIGINT NOT NULL
);
