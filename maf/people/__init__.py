"""Administering people: the People pages (issue 15)."""
