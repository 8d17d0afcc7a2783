-- Email digests: subscriptions, the outbox that sends each digest exactly once,
-- and every paper already sent to an address.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    trending INTEGER NOT NULL DEFAULT 0,
    query TEXT,                           -- a saved search; NULL for none
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'paused', 'unsubscribed')),
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,  -- hard delivery failures in a row
    last_error TEXT,
    CHECK (trending = 1 OR query IS NOT NULL)
);
CREATE INDEX subscriptions_email ON subscriptions (email);
CREATE INDEX subscriptions_due ON subscriptions (status, frequency);

-- One digest per subscription per period: the UNIQUE key makes planning idempotent,
-- so a rerun, or a second worker process, never queues a digest twice.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    period TEXT NOT NULL,                 -- 'daily:2026-11-24', 'weekly:2026-W48'
    email TEXT NOT NULL,
    sections TEXT NOT NULL,               -- JSON {"trending": [rowid, ...], "search": [...]}
    message_id TEXT NOT NULL,             -- fixed at planning: a resend carries the same id
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'empty')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,        -- unix time
    lease_owner TEXT,                     -- 'host:pid:nonce' of the process sending it
    lease_until REAL,
    handed_over_at REAL,                  -- the message's final "." was about to go out
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (subscription_id, period)
);
CREATE INDEX outbox_queue ON outbox (status, next_attempt_at);

-- Papers already put in a digest for an address, across all its subscriptions.
CREATE TABLE sent_papers (
    email TEXT NOT NULL COLLATE NOCASE,
    paper_rowid INTEGER NOT NULL,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    PRIMARY KEY (email, paper_rowid)
) WITHOUT ROWID;
CREATE INDEX sent_papers_outbox ON sent_papers (outbox_id);

-- Leases for jobs only one worker process may run at a time (harvesting).
CREATE TABLE job_locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);
