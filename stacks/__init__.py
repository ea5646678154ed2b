"""Stacks of the example app."""
