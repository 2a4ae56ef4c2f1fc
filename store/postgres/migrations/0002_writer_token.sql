-- One row whose token every committing write transaction sets to a fresh
-- random value. A node that finds, under the writer lock, the token its own
-- last commit set knows nobody else has written since, and keeps what that
-- transaction read and wrote as a cache (see cache.go).
CREATE TABLE writer_token (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    token bigint  NOT NULL
);
INSERT INTO writer_token (token) VALUES (0);
