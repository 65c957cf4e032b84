"""GraphQL: runs."""
