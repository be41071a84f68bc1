-- Duties that one replica of the fleet does for all (the start-up reconciliation of Stars
-- payments, the live catalog check, the Runware account probe, admin alerts): whoever takes a
-- duty's row first holds it until `until`; the others skip it meanwhile.
CREATE TABLE duties (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    taken_at REAL NOT NULL,
    until REAL NOT NULL
);
