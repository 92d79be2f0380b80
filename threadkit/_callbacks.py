"""Lesson helpers (work in progress)."""

__all__ = []
