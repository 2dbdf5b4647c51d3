"""The outbox, calendar invitations and personal calendar feeds."""
