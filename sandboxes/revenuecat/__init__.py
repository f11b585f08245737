"""A local stand-in for RevenueCat: API v1 customers, the v2 catalog endpoints, and webhooks.

It keeps customers and the project catalog in memory, answers with RevenueCat's payload shapes, and
POSTs RevenueCat-shaped webhooks to a configured URL with the configured Authorization value, retrying
non-200 answers on RevenueCat's schedule (5 retries at 5/10/20/40/80 "minutes", a minute being
``--retry-unit-ms`` milliseconds here). ``/control/...`` simulates what customers and stores do.
"""
