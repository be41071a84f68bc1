import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.billing import Billing, Kind, check_amount
from services.db import SqliteDatabase
from services.errors import AmountError, InsufficientBalance, UnknownUser
from services.migrations import migrate
from services.users import Users, language_for
from tests.servers import table_names


async def add_user(db, user_id, balance=0):
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO users (id, username) VALUES (?, ?)", (user_id, f"u{user_id}"))
    if balance:
        await Billing(db).credit(user_id, balance, Kind.ADMIN_TOPUP, f"seed-{user_id}")


async def ledger_sum(db, user_id):
    return await db.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM ledger WHERE user_id = ?", (user_id,)
    )


async def assert_consistent(db):
    rows = await db.fetchall(
        "SELECT u.id, u.balance, coalesce(sum(l.amount), 0) AS total FROM users u"
        " LEFT JOIN ledger l ON l.user_id = u.id GROUP BY u.id"
    )
    for row in rows:
        assert row["balance"] == row["total"] >= 0, dict(row)


# --- the rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not_a_number"),
        ("1.5", "not_a_number"),
        ("", "not_a_number"),
        ("١٢", "not_a_number"),
        (None, "not_a_number"),
        (True, "not_a_number"),
        (2.0, "not_a_number"),
        (0, "not_positive"),
        ("0", "not_positive"),
        (-5, "not_positive"),
        ("-5", "not_positive"),
        (10**7, "too_large"),
        ("99999999999999999999", "too_large"),
    ],
)
def test_amount_rules(value, reason):
    with pytest.raises(AmountError) as info:
        check_amount(value, limit=1_000_000)
    assert info.value.reason == reason


def test_amounts_that_pass():
    assert check_amount("1 000") == 1000
    assert check_amount("+5") == 5
    assert check_amount(7, limit=7) == 7


async def test_charge_refund_and_history(db):
    await add_user(db, 1, 100)
    billing = Billing(db)
    assert await billing.charge_for_job(1, job_id=10, amount=40) == 60
    assert await billing.charge_for_job(1, job_id=10, amount=40) == 60  # once per job
    assert await billing.balance(1) == 60
    assert await billing.refund_job(10) == 40
    assert await billing.refund_job(10) == 0
    assert await billing.refund_job(999) == 0  # never charged: nothing to give back
    assert await billing.balance(1) == 100
    assert await billing.charged_for_job(10) == (40, 40)
    kinds = [(e.kind, e.amount, e.job_id) for e in await billing.history(1)]
    assert kinds == [
        (Kind.JOB_REFUND, 40, 10),
        (Kind.JOB_CHARGE, -40, 10),
        (Kind.ADMIN_TOPUP, 100, None),
    ]
    assert len(await billing.history(1, limit=2)) == 2
    await assert_consistent(db)


async def test_insufficient_balance_changes_nothing(db):
    await add_user(db, 1, 30)
    billing = Billing(db)
    with pytest.raises(InsufficientBalance) as info:
        await billing.charge_for_job(1, job_id=1, amount=50)
    assert str(info.value) == "insufficient balance (need 50, have 30)"
    assert info.value.missing == 20
    assert await billing.balance(1) == 30
    assert await db.fetchval("SELECT count(*) FROM ledger WHERE job_id = 1") == 0


async def test_credit_is_idempotent_on_its_reference(db):
    await add_user(db, 1)
    billing = Billing(db)
    first = await billing.credit(1, 50, Kind.PURCHASE, "charge-abc")
    again = await billing.credit(1, 50, Kind.PURCHASE, "charge-abc")
    assert (first.balance, first.applied) == (50, True)
    assert (again.balance, again.applied) == (50, False)
    other = await billing.credit(1, 5, Kind.ADMIN_TOPUP, "update-77", admin_id=9, reason="gift")
    assert other.balance == 55
    [entry, *_] = await billing.history(1)
    assert (entry.admin_id, entry.reason, entry.reference) == (9, "gift", "update-77")
    with pytest.raises(AmountError):
        await billing.credit(1, "lots", Kind.ADMIN_TOPUP, "update-78")
    with pytest.raises(ValueError, match="not a credit"):
        await billing.credit(1, 5, Kind.JOB_REFUND, "x")
    with pytest.raises(UnknownUser):
        await billing.credit(404, 5, Kind.ADMIN_TOPUP, "update-79")


async def test_debit_never_below_zero(db):
    await add_user(db, 1, 20)
    billing = Billing(db)
    with pytest.raises(InsufficientBalance):
        await billing.debit(1, 21, Kind.ADMIN_DEBIT, "u-1", admin_id=9)
    posted = await billing.debit(1, 20, Kind.ADMIN_DEBIT, "u-2", admin_id=9, reason="typo")
    assert posted.balance == 0
    await assert_consistent(db)


async def test_per_operation_limit_is_configurable(db):
    await add_user(db, 1)
    billing = Billing(db, max_amount=500)
    with pytest.raises(AmountError) as info:
        await billing.credit(1, 501, Kind.ADMIN_TOPUP, "r")
    assert info.value.limit == 500


async def test_the_database_itself_refuses_a_negative_balance_and_edits(db):
    await add_user(db, 1, 10)
    with pytest.raises(db.errors, match=r"(?i)check"):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO ledger (user_id, amount, kind, idempotency_key)"
                " VALUES (1, -11, 'admin_debit', 'raw')"
            )
    with pytest.raises(db.errors, match="append-only"):
        async with db.transaction() as tx:
            await tx.execute("UPDATE ledger SET amount = 1000")
    with pytest.raises(db.errors, match="append-only"):
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM ledger")
    if db.engine == "postgresql":  # TRUNCATE skips row triggers: refused by its own
        with pytest.raises(db.errors, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute("TRUNCATE ledger CASCADE")
    assert await Billing(db).balance(1) == 10


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize(("balance", "k"), [(40 * 37, 37), (40 * 37 + 25, 37)])
async def test_200_concurrent_charges_exactly_k_succeed(db, balance, k):
    await add_user(db, 1, balance)
    billing = Billing(db)

    async def charge(job_id):
        try:
            await billing.charge_for_job(1, job_id, 40)
            return True
        except InsufficientBalance:
            return False

    outcomes = await asyncio.gather(*(charge(j) for j in range(200)))
    assert sum(outcomes) == k
    assert await billing.balance(1) == balance - 40 * k
    assert await ledger_sum(db, 1) == balance - 40 * k
    await assert_consistent(db)


async def test_50_concurrent_refunds_make_one_row(db):
    await add_user(db, 1, 100)
    billing = Billing(db)
    await billing.charge_for_job(1, 5, 60)
    refunds = await asyncio.gather(*(billing.refund_job(5) for _ in range(50)))
    assert sorted(refunds) == [0] * 49 + [60]
    assert await db.fetchval("SELECT count(*) FROM ledger WHERE kind = 'job_refund'") == 1
    assert await billing.balance(1) == 100


# --- atomicity ---------------------------------------------------------------------------------


class Crash(Exception):
    pass


async def test_a_crash_inside_the_callers_transaction_leaves_nothing(db):
    await add_user(db, 1, 100)
    billing = Billing(db)
    with pytest.raises(Crash):
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE IF NOT EXISTS scratch_jobs (id INTEGER)")
            await tx.execute("INSERT INTO scratch_jobs VALUES (7)")
            await billing.charge_for_job(1, 7, 40, tx=tx)
            raise Crash
    assert await billing.balance(1) == 100
    assert await db.fetchval("SELECT count(*) FROM ledger WHERE job_id = 7") == 0
    assert "scratch_jobs" not in await table_names(db)
    await billing.charge_for_job(1, 7, 40)  # the same job can still be charged afterwards
    assert await billing.balance(1) == 60


async def test_a_crash_while_creating_a_user_leaves_no_user_and_no_bonus(db, monkeypatch):
    billing = Billing(db)
    users = Users(db, billing, welcome_bonus=25)

    async def broken_credit(*args, **kwargs):
        await Billing.credit(billing, *args, **kwargs)
        raise Crash

    monkeypatch.setattr(billing, "credit", broken_credit)
    with pytest.raises(Crash):
        await users.touch(5, "eve", "ru")
    assert await users.get(5) is None
    assert await db.fetchval("SELECT count(*) FROM ledger") == 0


# --- users and the welcome bonus ---------------------------------------------------------------


async def test_welcome_bonus_once_and_language(db):
    users = Users(db, Billing(db), welcome_bonus=25)
    user, created = await users.touch(5, "eve", "uk")
    assert created and user.balance == 25 and user.language == "ru"
    again, created = await users.touch(5, "eve_new", "en")
    assert not created and again.balance == 25 and again.username == "eve_new"
    assert again.language == "ru"  # the stored choice wins over the client's
    assert (await users.find("@EVE_new")).id == 5
    assert (await users.find("5")).id == 5
    assert await users.find("@nobody") is None
    await users.set_language(5, "en")
    assert (await users.get(5)).language == "en"
    no_bonus = Users(db, Billing(db), welcome_bonus=0)
    user, _ = await no_bonus.touch(6, None, None)
    assert user.balance == 0 and user.language == "en"
    await assert_consistent(db)


async def test_concurrent_first_messages_credit_the_bonus_once(db):
    users = Users(db, Billing(db), welcome_bonus=10)
    results = await asyncio.gather(*(users.touch(8, f"n{i}", "en") for i in range(20)))
    assert sum(created for _, created in results) == 1
    assert await Billing(db).balance(8) == 10


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("ru", "ru"),
        ("uk", "ru"),
        ("be", "ru"),
        ("kk", "ru"),
        ("ru-RU", "ru"),
        ("en", "en"),
        ("de", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_for(code, language):
    assert language_for(code) == language


# --- property: random sequences keep the invariants --------------------------------------------

operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(1, 3), st.integers(-5, 120)),
    st.tuples(st.just("debit"), st.integers(1, 3), st.integers(1, 80)),
    st.tuples(st.just("charge"), st.integers(1, 3), st.integers(0, 9), st.integers(1, 70)),
    st.tuples(st.just("refund"), st.integers(0, 9)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=25))
def test_random_sequences_keep_every_invariant(ops):
    asyncio.run(_run_sequence(ops))


async def _run_sequence(ops):
    with tempfile.TemporaryDirectory() as folder:
        db = SqliteDatabase(Path(folder) / "p.sqlite3")
        await db.connect()
        try:
            await migrate(db)
            billing = Billing(db, max_amount=100)
            balances = {u: 0 for u in (1, 2, 3)}
            charged: dict[int, tuple[int, int]] = {}
            refunded: set[int] = set()
            for u in balances:
                await add_user(db, u)
            for n, op in enumerate(ops):
                if op[0] == "credit":
                    _, u, amount = op
                    if 0 < amount <= 100:
                        await billing.credit(u, amount, Kind.ADMIN_TOPUP, f"r{n}")
                        balances[u] += amount
                    else:
                        with pytest.raises(AmountError):
                            await billing.credit(u, amount, Kind.ADMIN_TOPUP, f"r{n}")
                elif op[0] == "debit":
                    _, u, amount = op
                    if amount <= balances[u]:
                        await billing.debit(u, amount, Kind.ADMIN_DEBIT, f"r{n}")
                        balances[u] -= amount
                    else:
                        with pytest.raises(InsufficientBalance):
                            await billing.debit(u, amount, Kind.ADMIN_DEBIT, f"r{n}")
                elif op[0] == "charge":
                    _, u, job, amount = op
                    if job in charged:
                        owner = charged[job][0]
                        await billing.charge_for_job(owner, job, amount)  # a repeat: no-op
                    elif amount <= balances[u]:
                        await billing.charge_for_job(u, job, amount)
                        balances[u] -= amount
                        charged[job] = (u, amount)
                    else:
                        with pytest.raises(InsufficientBalance):
                            await billing.charge_for_job(u, job, amount)
                else:
                    _, job = op
                    got = await billing.refund_job(job)
                    if job in charged and job not in refunded:
                        owner, amount = charged[job]
                        assert got == amount
                        balances[owner] += amount
                        refunded.add(job)
                    else:
                        assert got == 0
                for u, expected in balances.items():
                    assert await billing.balance(u) == expected
                await assert_consistent(db)
        finally:
            await db.close()
