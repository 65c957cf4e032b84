"""Plain HTTP routes beside GraphQL: health, Prometheus metrics, artifacts."""
