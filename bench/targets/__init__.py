"""Benchmark targets: small servers started as subprocesses by ``bench.run``.

Each target listens on ``127.0.0.1:$PORT`` and answers Bot Framework activities on
``POST /api/messages``, replying through the ``serviceUrl`` carried in the activity.
"""
