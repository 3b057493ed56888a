"""The core: models, typed errors and the service. It imports no UI or HTTP framework."""
