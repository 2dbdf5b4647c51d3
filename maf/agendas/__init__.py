"""Agenda items, timed slots, carry-forward and the agenda document."""
