"""Tests of the model registry through GraphQL."""
