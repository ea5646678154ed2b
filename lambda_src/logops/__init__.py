"""Operators' command line of the logging platform: ``python -m logops <subcommand>`` (boto3 only).

Subcommands (each with ``--help``):

* ``smoke``: after ``cdk deploy``, proves a deployed pipeline end to end in the caller's account:
  a marked line reaches the index, a marker line reaches the alerts' audit table.

Modules:

* :mod:`logops.__main__`: the entry point, a dispatcher of subcommand modules.
* :mod:`logops.smoke`: the ``smoke`` subcommand: its arguments and its hops.
* :mod:`logops.report`: the hop lines a subcommand prints, and :class:`~logops.report.HopFailure`.
* :mod:`logops.platform`: finds a platform by its attach-point names (SSM parameters), the index
  behind its shipper, and the alerts' audit table; every ARN rebuilt in the caller's account.
* :mod:`logops.signed_search`: a SigV4-signed ``_search`` against a domain (``es``) or a
  collection (``aoss``), over ``urllib``.

It imports neither the construct library nor the functions' packages: an operator's machine needs
boto3 and nothing else. The names it reads (parameter names, environment variables, filter names)
are those the constructs write; ``tests/lambda_src/logops`` holds them to the constructs' values.
"""
