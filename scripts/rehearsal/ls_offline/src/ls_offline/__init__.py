"""LocalStack plugins that let the deploy rehearsal run offline and without Docker.

* ``dynamodb:moto`` (``PROVIDER_OVERRIDE_DYNAMODB=moto``): DynamoDB from the moto that LocalStack
  bundles. LocalStack's own provider starts DynamoDB Local, which downloads Java and jars.
* ``noexec`` (``LAMBDA_RUNTIME_EXECUTOR=noexec``): functions are created and become Active, but are
  never run. The community edition's only executor is Docker, and even CreateFunction downloads a
  runtime init binary. The rehearsal runs the functions' code on the host instead.
"""
