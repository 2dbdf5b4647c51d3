"""The page each person lands on after signing in, built from the roles they hold."""
