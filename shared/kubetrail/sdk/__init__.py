"""Helpers that wrap a cloud SDK for the adapters (lazy clients, error translation). Each
module imports its SDK only inside functions, on first use."""
