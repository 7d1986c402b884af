"""Logs, metrics and request correlation shared by the gateway, the workers and the operator."""
