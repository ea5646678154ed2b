"""Deploy-time set-up of an OpenSearch domain with fine-grained access control (a custom resource).

The function's IAM role is mapped into the domain's ``all_access`` and ``security_manager`` (by the
function itself, see ``Security``); it is wired through
``aws_cdk.custom_resources.Provider``: it receives the Provider framework's event (``RequestType``
Create / Update / Delete, ``ResourceProperties``, ``OldResourceProperties``,
``PhysicalResourceId``) and returns ``{"PhysicalResourceId": ..., "Data": {...}}``, or raises
:class:`SetupError` whose message ends up as the reason in the CloudFormation event.

Every request goes to ``https://<DomainEndpoint>`` signed with SigV4 for the service ``es`` (``aoss``
for an OpenSearch Serverless collection, where only the index template applies; botocore's signer,
credentials of the function's role), through :mod:`opensearch_client.signed_http`, except the role-mapping bootstrap of a new domain (below), which signs in as the
internal master user with HTTP basic authentication. 5xx, 429 and connection errors are retried with exponential backoff and full
jitter; anything else fails the deployment with the method, the path, the status and the
(truncated) answer of the domain.

Idempotent: each part is read first (GET) and written (PUT/POST) only when the desired state
differs, so a second run that changes nothing sends no changing request. Delete leaves the
domain as it is (data, roles, policies) and succeeds. The physical id is stable:
``<DomainEndpoint>/opensearch-setup``.

ResourceProperties (CloudFormation passes numbers as strings; both forms are accepted)
--------------------------------------------------------------------------------------
``DomainEndpoint`` (required)
    The domain's endpoint host, without scheme (``search-logs-abc.eu-west-1.es.amazonaws.com``).
``Region`` (required)
    The domain's region: the SigV4 scope.
``Endpoint`` (tests only)
    A full base URL (``http://127.0.0.1:8443``) that replaces ``https://<DomainEndpoint>``. Honoured
    only when the environment variable ``OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE`` is ``1`` (set by
    the tests, never by the constructs); otherwise its presence fails the deployment. Production
    always talks HTTPS to ``DomainEndpoint``.
``Security`` (optional; its values come from the function's environment, never from the event)
    The security part runs whenever the function's environment holds the security values
    (:class:`~opensearch_setup.contract.SetupConfig`: ``OPENSEARCH_SETUP_MASTER_ROLE_ARN``,
    ``..._WRITER_ROLE_NAME``, ``..._WRITER_BACKEND_ROLES``, ``..._INDEX_PATTERNS``, ``..._ADMIN_USER``,
    ``..._ADMIN_SECRET_ARN``, written by the construct at deploy time). The event may repeat them (so a
    change updates the resource); an event whose ``Security`` differs, or that carries ``Security`` to a
    function configured without it, is refused before any request, and so is a ``DomainEndpoint`` other
    than ``OPENSEARCH_SETUP_DOMAIN_ENDPOINT``: anyone who may invoke the function cannot map a role.
    ``{"WriterRoleName": "log_constructs_firehose_writer", "WriterBackendRoles": [<Firehose role
    ARN>], "IndexPatterns": ["logs*"], "AdminUser": "admin", "AdminSecretArn": <secret ARN>,
    "MasterRoleArn": <this function's role ARN>}``

    * the security role ``WriterRoleName`` with cluster permissions ``cluster_composite_ops``
      (``_bulk``) and ``cluster_monitor`` (Firehose reads ``_cluster/stats`` and ``_nodes``), and
      index permissions ``crud``, ``create_index`` (index rotation) and ``manage`` (Firehose reads
      the index settings, mappings and stats) on ``IndexPatterns``;
    * its role mapping: exactly ``WriterBackendRoles`` as backend roles (a replaced Firehose role
      does not linger);
    * first, the mappings of ``all_access`` and ``security_manager``: ``MasterRoleArn`` among the
      backend roles and ``AdminUser`` among the users, merged into what is there (nothing is dropped,
      so mappings added by people stay). They are read signed; when the domain refuses that (403: a
      new domain maps only its internal master user ``AdminUser``), these two mappings alone are
      read and written as ``AdminUser`` with HTTP basic authentication, the password read at run time
      from ``AdminSecretArn`` (a JSON secret with a ``password`` key, or a plain string), never logged
      nor returned. A refused login (401) fails with a reason that names the secret;
    * the internal user ``AdminUser`` (the domain's master user, created by the domain from the same
      secret): it carries the secret's version id as the attribute ``log_constructs_secret_version``,
      so a new version of the secret sets the user's password once (signed) and an unchanged one
      sends nothing;
    * the security plugin's audit logging (``GET _plugins/_security/api/audit``, then ``PUT
      _plugins/_security/api/audit/config`` when it differs): ``enabled``, ``audit.enable_rest`` and
      ``audit.enable_transport`` on, ``audit.log_request_body`` off (a user's PUT holds its password);
      the rest of the configuration and the paths the domain reports as ``_readonly`` are kept.
``IndexTemplate``, ``IsmPolicy``, ``Dashboards`` (optional; their values come from the function's environment)
    Like ``Security``, these parts come only from ``OPENSEARCH_SETUP_INDEX_SETUP`` (a JSON object of the
    parts that are on, in the form below, written by the construct at deploy time). The event may repeat
    them; an event whose part differs, or that brings a part the configuration leaves out, is refused
    before any request: the function administers the domain, so a template, a lifecycle policy or a tenant
    from the event could reach every index of the domain. Index patterns are URL-quoted in paths.
``IndexTemplate``
    ``{"Name", "IndexPatterns", "Shards", "Replicas", "FieldLimit", "Priority" (optional,
    default 100), "MessageIgnoreAbove" (optional, default 8191)}``: a composable index template with
    ``@timestamp`` as ``date``; ``level``, ``log_group``, ``log_stream``, ``account``, ``app_name``
    as ``keyword``; ``message`` as ``text`` with a ``keyword`` sub-field; other strings mapped to
    ``keyword`` by a dynamic template; ``index.mapping.total_fields.limit`` = ``FieldLimit``.
``IsmPolicy``
    ``{"PolicyId", "IndexPatterns", "DeleteAfterDays", "WarmAfterDays" (optional), "ColdAfterDays"
    (optional), "Priority" (optional, default 100)}``: hot → (warm) → (cold) → delete by index age,
    with an ``ism_template`` that attaches it to new indices of the patterns. Warm and cold need
    UltraWarm / cold storage on the domain. An update sends ``if_seq_no`` / ``if_primary_term``.
    After a create, ``POST _plugins/_ism/add/<patterns>`` attaches the policy to indices that
    already exist without one; after an update, ``POST _plugins/_ism/change_policy/<patterns>``
    moves the managed indices to the new version (ISM keeps the old one otherwise).
``Dashboards``
    ``{"IndexPattern", "TimeField" (default "@timestamp"), "Tenant" (optional, default "global")}``:
    saved objects written through ``/_dashboards/api/saved_objects/_bulk_create?overwrite=true``
    (header ``osd-xsrf: true``; ``securitytenant`` = ``Tenant``) after a ``_bulk_get``: the index
    pattern, the saved search "Errors and criticals", three visualizations (events over time by
    level, top log groups, latest errors) and the dashboard "Logs overview", with stable ids.

Returned ``Data``: ``{"Changed": "<comma-separated parts written this run, or 'none'>"}`` (e.g.
``index_template:logs,ism_policy:logs-lifecycle,ism_add:1,internal_user:admin``).

Environment
-----------
``OPENSEARCH_SETUP_MAX_ATTEMPTS`` (default 8) and ``OPENSEARCH_SETUP_BACKOFF_SECONDS`` (default
1.0, the base of the exponential backoff) tune the retries; ``OPENSEARCH_SETUP_TIMEOUT_SECONDS``
(default 20) is the per-request socket timeout. With the defaults one request waits at most about
70 s between attempts (a new domain's Dashboards or security index can answer 503 for a while) and
gives up within 4 minutes even when every attempt times out, inside the function's 5 minutes.

Modules
-------
* :mod:`opensearch_setup.handler`: the custom resource handler (Provider onEvent).
* :mod:`opensearch_setup.contract`: what the LogPipeline construct and the function agree on.
* :mod:`opensearch_setup.props`: ResourceProperties and the environment → typed settings.
* :mod:`opensearch_setup.documents`: the desired documents, and the comparison with the domain's.
* :mod:`opensearch_setup.saved_objects`: the Dashboards saved objects, with stable ids.
* :mod:`opensearch_setup.reconcile`: read each part, write only what differs.
* :mod:`opensearch_setup.signed_http`: the shared signed client, its error named ``SetupError``.
"""
