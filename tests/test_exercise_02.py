"""The exercise of 02 · Shared state and locks: a thread-safe ``Account``.

``check_account`` must pass the solution (solutions/02_account.py), refuse the
starting code of the notebook's exercise cell (it loses deposits and overdraws),
and refuse typical wrong answers, each with the explanation that points at its
mistake: a lock around the write only, a new lock per call, a lock in deposit
but not in withdraw, one lock per method, and a plain Lock taken twice.
"""

from __future__ import annotations

import threading
import time

import pytest

import threadkit as tk
from threadkit._checking import CheckPassed
from exercise_support import EndableLock, assert_refused, deadlocks_end, refusal, solution, stub
from threadkit.lessons.races import check_account as check

#: The hint every race-related refusal ends with.
HINT = "hold it, in every method, from the read of self._balance to the write"


def test_the_solution_passes():
    passed = check(solution("02")["Account"])
    assert isinstance(passed, CheckPassed) and "thread-safe" in passed


def test_the_solution_is_only_definitions():
    # %load pastes the file into the notebook: it must define Account and nothing to run
    namespace = solution("02")
    assert isinstance(namespace["Account"], type)
    assert "account" not in namespace


def test_the_starting_code_is_refused_for_both_races():
    message = assert_refused(check, stub("02", "Account"), "deposits were lost", "the account was overdrawn", HINT)
    assert message.startswith("Not yet:")


def test_the_starting_code_works_for_one_thread():
    # the stub is refused for its races only, not for a single-thread mistake
    account = stub("02", "Account")(100)
    account.deposit(50)
    assert (account.withdraw(120), account.withdraw(120), account.balance) == (True, False, 30)


# -- typical wrong answers, each one mistake away from the solution ---------------------------
SOLUTION = solution("02")["Account"]


class LockAroundTheWriteOnly(SOLUTION):
    """Computes the new balance outside the lock and only stores it under the lock."""

    def deposit(self, amount):
        new = self._balance + amount           # read outside the lock
        with self._lock:
            self._balance = new

    def withdraw(self, amount):
        if self._balance >= amount:            # check outside the lock
            with self._lock:
                self._balance -= amount
            return True
        return False


class NewLockEachCall(SOLUTION):
    """`with threading.Lock():` in each method: a lock nobody else can ever wait for."""

    _lock = property(lambda self: threading.Lock(), lambda self, value: None)


class LockedDepositOnly(LockAroundTheWriteOnly):
    """Guards deposit, forgets withdraw (the check-then-act)."""

    deposit = SOLUTION.deposit

    def withdraw(self, amount):
        if self._balance >= amount:
            self._balance -= amount
            return True
        return False


class OneLockPerMethod(SOLUTION):
    """Each method has its own lock: deposits and withdrawals still race with each other."""

    def __init__(self, balance=0):
        super().__init__(balance)
        self._deposit_lock = threading.Lock()

    def deposit(self, amount):
        with self._deposit_lock:
            self._balance += amount


class PlainLockTakenTwice(SOLUTION):
    """withdraw holds the Lock and reads self.balance, which takes the same Lock again."""

    def __init__(self, balance=0):
        super().__init__(balance)
        self._lock = EndableLock()  # a plain Lock whose deadlock the test can end

    def withdraw(self, amount):
        with self._lock:
            if self.balance >= amount:         # waits for itself, for ever
                self._balance -= amount
                return True
            return False


class WithdrawChecksOutsideTheLock(LockAroundTheWriteOnly):
    """Deposits are right; withdraw checks the balance before it takes the lock."""

    deposit = SOLUTION.deposit


class DepositReadsOutsideTheLock(LockAroundTheWriteOnly):
    """Withdrawals are right; deposit reads the balance before it takes the lock."""

    withdraw = SOLUTION.withdraw


RACY = [LockAroundTheWriteOnly, NewLockEachCall, LockedDepositOnly, OneLockPerMethod,
        WithdrawChecksOutsideTheLock, DepositReadsOutsideTheLock]


# -- right answers other than the solution ---------------------------------------------------
class RLockThroughTheProperty(PlainLockTakenTwice):
    """withdraw reads self.balance inside the lock: right with an RLock (the fix of PlainLockTakenTwice)."""

    def __init__(self, balance=0):
        SOLUTION.__init__(self, balance)
        self._lock = threading.RLock()


class ReturnsAfterTheLock(SOLUTION):
    """Check and debit under the lock, the answer given after it."""

    def withdraw(self, amount):
        with self._lock:
            if self._balance < amount:
                return False
            self._balance -= amount
        return True


class Slotted:
    """The solution with __slots__: the grader's probe must still see self._balance."""

    __slots__ = ("_balance", "_lock")
    __init__, balance, deposit, withdraw = SOLUTION.__init__, SOLUTION.balance, SOLUTION.deposit, SOLUTION.withdraw


@pytest.mark.parametrize("answer", [RLockThroughTheProperty, ReturnsAfterTheLock, Slotted],
                         ids=lambda c: c.__name__)
def test_right_answers_pass_every_time(answer):
    for _ in range(3):
        passed = check(answer)
        assert isinstance(passed, CheckPassed) and "thread-safe" in passed


@pytest.mark.parametrize(
    "answer, phrases, absent",
    [
        (LockAroundTheWriteOnly, ("deposits were lost", "the account was overdrawn", HINT), ()),
        (NewLockEachCall, ("deposits were lost", "the account was overdrawn", HINT), ()),
        (LockedDepositOnly, ("the account was overdrawn", "across the check and the debit"), ("deposits were lost",)),
        (OneLockPerMethod, ("deposits and withdrawals at the same time", "use the same lock?"),
         ("deposits were lost", "overdrawn")),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_a_wrong_answer_is_refused_with_its_explanation(answer, phrases, absent):
    message = assert_refused(check, answer, *phrases)
    assert not [phrase for phrase in absent if phrase in message]


def test_a_plain_lock_taken_twice_is_explained_within_seconds():
    start = time.monotonic()
    with deadlocks_end():
        assert_refused(check, PlainLockTakenTwice, "did not answer within 2 s", "RLock")
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("answer", RACY, ids=lambda c: c.__name__)
def test_racy_answers_are_refused_every_time(answer):
    for _ in range(10):
        message = refusal(check, answer)
        assert message.startswith("Not yet:")
        assert "lost" in message or "overdrawn" in message


def test_the_message_for_the_starting_code_is_always_the_same():
    messages = {refusal(check, stub("02", "Account")) for _ in range(5)}
    assert len(messages) == 1


class NoRefusal(SOLUTION):
    def withdraw(self, amount):
        with self._lock:
            self._balance -= amount
            return True


class ReturnsNone(SOLUTION):
    def withdraw(self, amount):
        with self._lock:
            if self._balance >= amount:
                self._balance -= amount


class NoDebit(SOLUTION):
    def withdraw(self, amount):
        with self._lock:
            return self._balance >= amount


class OtherAttribute:
    def __init__(self, balance=0):
        self.money = balance

    @property
    def balance(self):
        return self.money


class OwnProperty(SOLUTION):
    _balance = property(lambda self: 0)


class RaisesInDeposit(SOLUTION):
    def deposit(self, amount):
        raise NotImplementedError


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (NoRefusal, "withdraw(200) with a balance of 150 returned True"),
        (ReturnsNone, "returned None, expected False"),
        (NoDebit, "withdraw(150) on Account(100), the balance is 150, expected 0."),
        (OtherAttribute, "did not set self._balance"),
        (OwnProperty, "defines _balance itself"),
        (RaisesInDeposit, "Account used by a single thread raised NotImplementedError: it is not written yet."),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_single_thread_mistakes_are_named(answer, phrase):
    assert_refused(check, answer, phrase)


def test_the_grader_leaves_no_thread_behind():
    before = set(threading.enumerate())
    check(SOLUTION)
    refusal(check, stub("02", "Account"))
    time.sleep(0.05)
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []
