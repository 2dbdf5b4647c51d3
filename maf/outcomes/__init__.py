"""The meeting record: attendance, outcomes, lead professionals, actions, minutes and
progress updates."""
