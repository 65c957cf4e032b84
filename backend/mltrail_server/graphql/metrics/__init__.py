"""GraphQL: metrics."""
