"""The secure building blocks the constructs use, for your own resources next to them.

The same names as :mod:`log_constructs.compliance`, where they are documented (this module stays
for code written against earlier releases).
"""
from __future__ import annotations

from .compliance import (alarm_topic, dead_letter_queue, encryption_key, invoked_synchronously, managed_policy_role,
                         send_failures_to)

__all__ = ["alarm_topic", "dead_letter_queue", "encryption_key", "invoked_synchronously", "managed_policy_role",
           "send_failures_to"]
