"""Operators' command line of the logging platform: ``logops <subcommand>`` (or ``python -m logops``).

Installed as its own distribution (``serverless-logging-ops``, built from ``lambda_src/ops/``), so an
application that installs logship does not get it.

Subcommands (each with ``--help``):

* ``smoke``: after ``cdk deploy``, proves a deployed pipeline end to end in the caller's account:
  a marked line reaches the index, a marker line reaches the alerts' audit table.
* ``replay``: sends a time range of the pipeline's S3 backup again, to the domain with ``_bulk``
  (exactly once, the shipper's ids) or to a Firehose stream.
* ``redrive``: re-reads from the ingestion stream the batches its event source mapping gave up on,
  and invokes the shipper with them.

Modules:

* :mod:`logops.__main__`: the entry point, a dispatcher of subcommand modules.
* :mod:`logops.smoke`: the ``smoke`` subcommand: its arguments and its hops.
* :mod:`logops.replay`: the ``replay`` subcommand: selecting the backed-up documents of a window and
  sending them again.
* :mod:`logops.replay_source`: what ``replay`` reads and trusts: the shipper's own settings, and the
  backup objects decoded segment by segment.
* :mod:`logops.redrive`: the ``redrive`` subcommand: the Kinesis on-failure records of the shipper's
  queue, read again from the stream and invoked.
* :mod:`logops.report`: the hop lines a subcommand prints, and :class:`~logops.report.HopFailure`.
* :mod:`logops.platform`: finds a platform by its attach-point names (SSM parameters), the index
  behind its shipper, and the alerts' audit table; every ARN rebuilt in the caller's account.
* :mod:`logops.signed_search`: a SigV4-signed ``_search`` against a domain (``es``) or a
  collection (``aoss``), over ``urllib``.

It imports neither the construct library nor the functions' packages: an operator's machine needs
boto3, :mod:`opensearch_client` (the ``_bulk`` writer) and logship's public senders
(:mod:`logship.firehose`, :mod:`logship.retry`). The names it reads (parameter names, environment
variables, filter names) are those the constructs write; ``tests/lambda_src/logops`` holds them to
the constructs' values.
"""
