"""Invitations to an account, and requests for one."""
