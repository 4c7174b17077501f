"""Clients around the service: publish selections (one, or simulated listeners) and tail answers."""
