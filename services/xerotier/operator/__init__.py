"""The Kubernetes operator: ``Model`` custom resources reconciled through the registry's HTTP API."""
