"""The service layer's own units (the rest is exercised through the GraphQL API)."""
