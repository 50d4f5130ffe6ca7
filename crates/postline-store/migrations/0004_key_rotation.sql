-- DKIM key rotation: a domain has one active (signing) key, at most one next key
-- (published, not yet signing), and retired keys kept published until removed.

CREATE TABLE domain_keys (
    domain TEXT NOT NULL,
    selector TEXT NOT NULL,
    state TEXT NOT NULL,
    rsa_private {blob} NOT NULL,
    ed25519_private {blob},
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain, selector)
);

INSERT INTO domain_keys (domain, selector, state, rsa_private, ed25519_private, created_at)
    SELECT domain, selector, 'active', rsa_private, ed25519_private, created_at FROM dkim_keys;

DROP TABLE dkim_keys;
