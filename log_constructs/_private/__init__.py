"""Shared internals of the construct library. Not part of the public API."""
