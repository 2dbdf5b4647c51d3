"""Members' answers to meeting invitations: attending, not attending, sending a deputy."""
