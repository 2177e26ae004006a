"""Reference implementations the product is checked against (used by tests and benchmarks)."""
