"""Kafka plumbing shared by the service, the producer tools and the HTTP API.

`config`: one connection config (typed, secrets masked); `produce`: one produce helper with
backpressure; `topics`: topic creation; `stop`: the stop request SIGTERM/SIGINT set. Nothing
here knows about songs.
"""
