"""Kafka plumbing shared by the service, the producer tools and the HTTP API.

One connection config (typed, secrets masked), one produce helper with backpressure, topic
creation. Nothing here knows about songs.
"""
