"""The Encore service: consume song selections, recommend in batches, publish, commit."""
