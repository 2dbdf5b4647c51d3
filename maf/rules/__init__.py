"""Local rules: the timescales, capacities, retention, audit fraction and words a council sets,
with the seeds' values as defaults and a history that keeps the rule in force at any time."""
