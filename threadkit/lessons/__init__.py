"""Lesson helpers, one module per notebook: fake services, scenarios and exercise graders.

* ``00_start_here``: :mod:`threadkit.lessons.start`
* ``01_thread_pools_futures``: :mod:`threadkit.lessons.pools`
* ``02_shared_state_locks``: :mod:`threadkit.lessons.races`
* ``03_queues``: :mod:`threadkit.lessons.queues`
* ``04_callbacks``: :mod:`threadkit.lessons.callbacks`
* ``05_comparison``: :mod:`threadkit.lessons.comparison`

The core package (:mod:`threadkit`) never imports these; a notebook imports its own.
"""
