"""A thread-safe bank account: the exercise of 02_shared_state_locks.ipynb.

One lock, created once per account, guards ``self._balance``.  Every method
holds it from the read of the balance to the write (in ``withdraw``: across
the check and the debit), so no other thread can change the balance in
between.
"""

import threading


class Account:
    """A bank account that many threads use at once."""

    def __init__(self, balance=0):
        self._lock = threading.Lock()          # one lock per account guards self._balance
        self._balance = balance

    @property
    def balance(self):
        with self._lock:
            return self._balance

    def deposit(self, amount):
        with self._lock:                       # read and write as one step
            self._balance += amount

    def withdraw(self, amount):
        """Take amount out if the balance covers it; return True if it did, else False."""
        with self._lock:                       # check and debit as one step
            if self._balance >= amount:
                self._balance -= amount
                return True
            return False
