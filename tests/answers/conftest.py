from tests.imap_server import imap_server  # noqa: F401  (the real dovecot, as a fixture)
