"""Subject access: everything held about one child, as a readable document and as JSON."""
