"""Test support: the AWS emulator, a fault-injecting proxy in front of it, and local servers."""
