-- The reports of an installation already evaluated, by when they were made: whether a
-- report is superseded (a newer one of its installation was evaluated before it) is
-- answered from this index alone. Without it the question read every later report's
-- row, and an imported history has all its later reports stored already: the import
-- slowed with each report it evaluated.
CREATE INDEX reports_evaluated ON reports (installation_id, generated_at)
    WHERE evaluated_at IS NOT NULL;

-- What waits in the outbox, in the order it was queued: the dispatcher reads it every
-- round (`notify::order` picks what may go), and delivered entries stay in the table.
CREATE INDEX outbox_waiting ON outbox (id) WHERE done_at IS NULL AND held_until IS NULL;
