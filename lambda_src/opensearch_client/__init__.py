"""opensearch_client: the OpenSearch client the functions and the operators' tools share (botocore only).

Modules:

* :mod:`opensearch_client.signed_http`: SigV4-signed requests (``es`` for a domain, ``aoss`` for an
  OpenSearch Serverless collection) over ``http.client``, with retries, timeouts and a deadline, and
  a basic-auth copy for an internal user.
* :mod:`opensearch_client.bulk`: writes JSON documents with ``_bulk``: bounded requests, ``create``
  with ids (or service-assigned ids), retries with backoff, one outcome per document.

Imported by the functions (``log_shipper``, ``opensearch_setup``) and the operators' package
(``logops``), never by ``logship``: applications that ship their logs do not get it. It imports
:mod:`logship.retry` (the backoff every sender shares), botocore and the standard library.
"""
