-- Members, their sessions, submissions and upvotes.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,          -- argon2id, with its parameters
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

-- Server-side sessions: the cookie holds a random token, the table its SHA-256,
-- so a copy of the database cannot be replayed as a login.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, per account and per client address, for rate limiting
-- (a table, not process memory, so every worker process sees every failure).
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at REAL NOT NULL                      -- unix time
);
CREATE INDEX login_failures_key ON login_failures (key, at);

-- A paper submitted by a member joins the daily list of the day it was submitted.
CREATE TABLE submissions (
    paper_rowid INTEGER PRIMARY KEY REFERENCES papers (rowid) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    featured_on TEXT NOT NULL,            -- YYYY-MM-DD
    submitted_at TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0     -- set by an admin: gone from every list
);
CREATE INDEX submissions_featured ON submissions (featured_on) WHERE hidden = 0;

-- One upvote per member per paper.
CREATE TABLE votes (
    paper_rowid INTEGER NOT NULL REFERENCES papers (rowid) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_rowid, user_id)
) WITHOUT ROWID;
CREATE INDEX votes_user ON votes (user_id, created_at);

-- Vote totals, kept in the same transaction as `votes`, so lists never count rows.
CREATE TABLE paper_votes (
    paper_rowid INTEGER PRIMARY KEY REFERENCES papers (rowid) ON DELETE CASCADE,
    votes INTEGER NOT NULL
);
CREATE INDEX paper_votes_votes ON paper_votes (votes);
