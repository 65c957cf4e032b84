"""Runs, their search and the runs table through the GraphQL API."""
