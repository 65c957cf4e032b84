"""Experiments through the GraphQL API."""
