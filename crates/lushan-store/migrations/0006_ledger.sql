-- The ledger (docs/billing.md): double-entry postings in integer minor units
-- (fen for CNY, core-seconds for service units), each transaction under a
-- unique idempotency key; balances are sums of postings and nothing in
-- ledger_postings is ever updated or deleted.

INSERT INTO counters (name, next_value) VALUES ('ledger', 1), ('price', 1);

-- Prices are versioned: setting a price adds a row, the newest row for a
-- (site, partition, qos) is in force, and a job keeps the row it was quoted
-- with. partition_id NULL: every partition of the site; qos '': every QOS.
CREATE TABLE prices (
    id BIGINT PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    partition_id BIGINT REFERENCES partitions (id),
    qos TEXT NOT NULL,
    core_hour_micro BIGINT NOT NULL CHECK (core_hour_micro >= 0),
    gpu_hour_micro BIGINT NOT NULL CHECK (gpu_hour_micro >= 0),
    gb_hour_micro BIGINT NOT NULL CHECK (gb_hour_micro >= 0),
    su_per_gpu_hour BIGINT NOT NULL CHECK (su_per_gpu_hour >= 0),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX prices_site ON prices (site_id);

-- Every site that exists before this migration gets the default price
-- (0.10 CNY per core-hour, 2.00 per GPU-hour; lushan_ledger::DEFAULT_PRICE).
INSERT INTO prices (id, site_id, partition_id, qos, core_hour_micro, gpu_hour_micro, gb_hour_micro, su_per_gpu_hour,
    created_at, created_by)
SELECT id, id, NULL, '', 100000, 2000000, 0, 16, created_at, 'lushan' FROM sites;
UPDATE counters SET next_value = (SELECT COALESCE(MAX(id), 0) + 1 FROM prices) WHERE name = 'price';

-- Discounts by sector, in basis points (3000 = 30 %).
CREATE TABLE sector_discounts (
    sector TEXT PRIMARY KEY,
    discount_bp BIGINT NOT NULL CHECK (discount_bp >= 0 AND discount_bp <= 10000),
    updated_at BIGINT NOT NULL
);

-- One row per tenant that has money: its credit limit, and a row to lock
-- (lock_seq is bumped by every hold) so that check-and-hold is atomic on
-- PostgreSQL as on SQLite.
CREATE TABLE wallets (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants (id),
    credit_limit_fen BIGINT NOT NULL CHECK (credit_limit_fen >= 0),
    lock_seq BIGINT NOT NULL
);

CREATE TABLE ledger_transactions (
    id BIGINT PRIMARY KEY,
    txn_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    tenant_id BIGINT REFERENCES tenants (id),
    job_id BIGINT,
    grant_id BIGINT,
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX ledger_transactions_tenant ON ledger_transactions (tenant_id, at);
CREATE INDEX ledger_transactions_at ON ledger_transactions (at);

CREATE TABLE ledger_postings (
    transaction_id BIGINT NOT NULL REFERENCES ledger_transactions (id),
    account TEXT NOT NULL,
    commodity TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, account)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account);

-- How a job is paid for: the funding chosen at submission, the price row and
-- discount it was quoted with, its hold, and (once settled) what it used
-- and was charged, in the funding's unit (fen or core-seconds).
CREATE TABLE job_charges (
    job_id BIGINT PRIMARY KEY REFERENCES jobs (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    funding TEXT NOT NULL,
    grant_id BIGINT,
    price_id BIGINT NOT NULL REFERENCES prices (id),
    discount_bp BIGINT NOT NULL,
    held BIGINT NOT NULL,
    charged BIGINT,
    settled_at BIGINT,
    core_seconds BIGINT,
    gpu_seconds BIGINT,
    owner_share_fen BIGINT
);
CREATE INDEX job_charges_settled ON job_charges (settled_at);

-- Public-welfare grants: requested by a PI, reviewed, decided by an
-- operator. Awarded units are ledger postings (award:grant:ID); lock_seq is
-- the row jobs funded by the grant lock to check and hold atomically.
INSERT INTO counters (name, next_value) VALUES ('grant', 1);
CREATE TABLE grants (
    id BIGINT PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    state TEXT NOT NULL,
    requested_core_hours BIGINT NOT NULL,
    requested_gpu_hours BIGINT NOT NULL,
    awarded_units BIGINT,
    site_id BIGINT REFERENCES sites (id),
    partition_id BIGINT REFERENCES partitions (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    decision_reason TEXT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES users (id),
    requested_at BIGINT NOT NULL,
    decided_by BIGINT REFERENCES users (id),
    decided_at BIGINT,
    renews_grant_id BIGINT REFERENCES grants (id),
    lock_seq BIGINT NOT NULL
);
CREATE INDEX grants_project ON grants (project_id);

CREATE TABLE grant_reviews (
    grant_id BIGINT NOT NULL REFERENCES grants (id),
    reviewer_id BIGINT NOT NULL REFERENCES users (id),
    score BIGINT NOT NULL CHECK (score >= 1 AND score <= 5),
    comment TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (grant_id, reviewer_id)
);
