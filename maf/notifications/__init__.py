"""Which emails MAF sends, who may turn which off, and the follow-up of actions (issue 17)."""
