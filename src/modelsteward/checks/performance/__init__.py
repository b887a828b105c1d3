"""The performance check's parts: evaluation data, metrics, and the adapters that load models.

Kept free of heavy imports: the sandboxed worker imports ``adapters`` through this package, and its
start-up time counts. The evaluation itself (sandboxed sessions, batches, leaderboards) is
``modelsteward.evaluation``.
"""
