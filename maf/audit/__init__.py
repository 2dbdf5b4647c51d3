"""The audit log: who did or saw what, and when. Append-only."""
