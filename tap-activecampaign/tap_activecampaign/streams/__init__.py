"""Stream declarations, one module per domain."""
