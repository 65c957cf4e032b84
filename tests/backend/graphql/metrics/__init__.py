"""logBatch, metric histories and the live subscriptions through the GraphQL API."""
