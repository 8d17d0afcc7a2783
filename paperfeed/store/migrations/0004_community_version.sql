-- A counter bumped by every change to what the public lists show (votes, submissions,
-- hiding, links), kept by triggers so no code path can forget it. Rendered pages are
-- cached per (store seq, this version).
CREATE TABLE community_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO community_version (id, version) VALUES (1, 0);
CREATE TRIGGER votes_added AFTER INSERT ON votes BEGIN UPDATE community_version SET version = version + 1; END;
CREATE TRIGGER votes_removed AFTER DELETE ON votes BEGIN UPDATE community_version SET version = version + 1; END;
CREATE TRIGGER submissions_added AFTER INSERT ON submissions BEGIN UPDATE community_version SET version = version + 1; END;
CREATE TRIGGER submissions_changed AFTER UPDATE ON submissions BEGIN UPDATE community_version SET version = version + 1; END;
CREATE TRIGGER links_changed AFTER UPDATE OF links ON papers BEGIN UPDATE community_version SET version = version + 1; END;
