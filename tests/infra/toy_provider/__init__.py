"""A provider that lives only in the tests: the recipe of docs/adding-a-provider.md, registered into
the services through ``BILLING_EXTRA_PROVIDERS=tests.infra.toy_provider.provider`` (its PROVIDER).

Only the processes it is registered in import ``provider``/``mapping`` (importing them makes ``toy``
a ``Provider``); the test process uses ``delivery`` alone, so the session's enum stays as it is.
"""
