"""Children, CAF cases, consent, needs, and the coordinator's two checks."""
