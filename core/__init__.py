"""Small building blocks every app shares that are neither configuration nor a service: see docs/architecture.md."""
