"""Plain HTTP routes: health, readiness, Prometheus metrics, the SPA."""
