"""In-memory stand-ins for the Kafka clients, for unit tests of the loop and the delivery."""
