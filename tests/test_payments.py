"""Telegram Stars: invoices, pre-checkout, crediting once, refunds, reconciliation."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from aiogram.methods import GetStarTransactions, RefundStarPayment, SendInvoice

from services.payments import Package, StarPayment, make_payload, parse_packages
from telegram_side.stars import reconcile
from tests.harness import Harness
from tests.servers import engine_settings

USER, ADMIN = 1001, 9


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    """The bot on each storage engine."""
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(
            tmp_path, **engine, admin_ids="9", token_packages="100:50,500:225"
        )
        await harness.give(10)
        yield harness
        await harness.close()


async def balance(h, user=USER):
    return await h.services.billing.balance(user)


async def test_buy_sends_a_stars_invoice_for_the_user(h):
    await h.send("/buy")
    assert "Telegram Stars" in h.last_text()
    await h.tap("500 tokens for 225 ⭐")
    [invoice] = h.session.sent(SendInvoice)
    assert invoice.chat_id == USER and invoice.currency == "XTR"
    assert invoice.provider_token == ""
    assert [(p.amount) for p in invoice.prices] == [225]
    assert invoice.payload == f"buy:500:225:{USER}" and len(invoice.payload.encode()) <= 128
    assert "500 tokens" in invoice.title


async def test_the_balance_screen_offers_the_packages(h):
    await h.send("/balance")
    labels = [t for t, _ in h.buttons()]
    assert "100 tokens for 50 ⭐" in labels and "500 tokens for 225 ⭐" in labels


async def test_pre_checkout_accepts_a_good_payment(h):
    answer = await h.pre_checkout(make_payload(Package(100, 50), USER), 50)
    assert answer.ok is True


@pytest.mark.parametrize(
    ("payload", "total", "currency", "reason"),
    [
        ("something-else", 50, "XTR", "not from this bot"),
        (f"buy:100:50:{USER}", 50, "USD", "not in Telegram Stars"),
        (f"buy:300:100:{USER}", 100, "XTR", "no longer offered"),
        (f"buy:100:40:{USER}", 40, "XTR", "price has changed"),
        (f"buy:100:50:{USER}", 49, "XTR", "price has changed"),
        ("buy:100:50:777", 50, "XTR", "made for another user"),
    ],
)
async def test_pre_checkout_refusals_are_readable(h, payload, total, currency, reason):
    answer = await h.pre_checkout(payload, total, currency)
    assert answer.ok is False and reason in answer.error_message


async def test_pre_checkout_refusal_in_russian(h):
    ru = h.as_user(2002, "ru")
    answer = await ru.pre_checkout("buy:100:50:1", 50)
    assert answer.error_message == "Этот счёт выставлен другому пользователю. Откройте /buy сами."


async def test_a_payment_is_credited_once_however_often_it_arrives(h):
    payload = make_payload(Package(500, 225), USER)
    await h.pay(payload, 225, "charge-1")
    assert "Payment received: 500 tokens added. Balance: 510 tokens." in h.last_text()
    await h.pay(payload, 225, "charge-1")
    await asyncio.gather(*(h.pay(payload, 225, "charge-1") for _ in range(5)))
    assert await balance(h) == 510
    assert await h.services.db.fetchval("SELECT count(*) FROM payments") == 1
    assert await h.services.db.fetchval("SELECT count(*) FROM ledger WHERE kind = 'purchase'") == 1
    await h.pay(payload, 225, "charge-2")  # a second purchase is a second payment
    assert await balance(h) == 1010


async def test_an_unmatched_payment_is_kept_and_the_admins_told(h):
    await h.pay("buy:100:50:777", 50, "charge-odd")
    assert "could not match this payment" in h.last_text()
    assert await h.services.db.fetchval("SELECT tokens FROM payments") == 0
    alerts = [
        r.text
        for r in h.session.requests
        if type(r).__name__ == "SendMessage" and int(r.chat_id) == ADMIN
    ]
    assert alerts and "charge-odd" in alerts[0]


async def test_refundstars_refunds_and_takes_the_tokens_back(h):
    await h.pay(make_payload(Package(100, 50), USER), 50, "ch-1")
    admin = h.as_user(ADMIN)
    await admin.send("/refundstars ch-1")
    [call] = h.session.sent(RefundStarPayment)
    assert (call.user_id, call.telegram_payment_charge_id) == (USER, "ch-1")
    assert "100 tokens taken back. The user's balance: 10 tokens." in admin.last_text()
    assert await balance(h) == 10
    await admin.send("/refundstars ch-1")
    assert "refunded before" in admin.last_text()
    assert len(h.session.sent(RefundStarPayment)) == 1


async def test_refundstars_refuses_when_the_tokens_are_spent_unless_forced(h):
    await h.pay(make_payload(Package(100, 50), USER), 50, "ch-2")
    await h.services.billing.charge_for_job(USER, 1, 80)  # spent most of them
    admin = h.as_user(ADMIN)
    await admin.send("/refundstars ch-2")
    assert "spent the tokens: 30 of 100 left" in admin.last_text()
    assert h.session.sent(RefundStarPayment) == [] and await balance(h) == 30
    await admin.send("/refundstars ch-2 force")
    assert "30 tokens taken back" in admin.last_text()
    assert await balance(h) == 0
    row = await h.services.db.fetchone("SELECT refunded_tokens, refunded_by FROM payments")
    assert tuple(row) == (30, ADMIN)


async def test_refundstars_changes_nothing_when_telegram_refuses(h):
    await h.pay(make_payload(Package(100, 50), USER), 50, "ch-3")
    h.session.refuse(RefundStarPayment, 400, "Bad Request: CHARGE_NOT_FOUND")
    admin = h.as_user(ADMIN)
    await admin.send("/refundstars ch-3")
    assert "Telegram refused the refund" in admin.last_text()
    assert await balance(h) == 110
    row = await h.services.db.fetchone("SELECT refunded_at, refund_pending_at FROM payments")
    assert tuple(row) == (None, None)


class Crash(Exception):
    """The process dies right after Telegram carried out the refund."""


async def test_a_crash_after_telegrams_refund_is_completed_by_the_next_attempt(h):
    await h.pay(make_payload(Package(100, 50), USER), 50, "ch-4")
    refunded_at_telegram: list[str] = []

    async def refund_then_crash(payment):
        refunded_at_telegram.append(payment.charge_id)
        raise Crash

    with pytest.raises(Crash):
        await h.services.payments.refund("ch-4", ADMIN, force=False, refund_stars=refund_then_crash)
    assert refunded_at_telegram == ["ch-4"]
    # the crash left the mark, and the user both Stars and tokens for the moment
    row = await h.services.db.fetchone("SELECT refunded_at, refund_pending_at FROM payments")
    assert row["refunded_at"] is None and row["refund_pending_at"] is not None
    assert await balance(h) == 110
    # the admin tries again: Telegram says the charge was refunded, so the refund completes
    h.session.refuse(RefundStarPayment, 400, "Bad Request: CHARGE_ALREADY_REFUNDED")
    admin = h.as_user(ADMIN)
    await admin.send("/refundstars ch-4")
    assert "100 tokens taken back" in admin.last_text()
    assert await balance(h) == 10
    await admin.send("/refundstars ch-4")
    assert "refunded before" in admin.last_text()
    purchase_refunds = await h.services.db.fetchval(
        "SELECT count(*) FROM ledger WHERE kind = 'purchase_refund'"
    )
    assert purchase_refunds == 1


@pytest.mark.parametrize("command", ["/refundstars", "/refundstars a b", "/refundstars nope"])
async def test_refundstars_bad_input(h, command):
    admin = h.as_user(ADMIN)
    await admin.send(command)
    assert "Usage" in admin.last_text() or "No payment nope" in admin.last_text()


async def test_refundstars_and_reconcile_do_not_exist_for_users(h):
    await h.send("/refundstars ch-1")
    assert "don't know this command" in h.last_text()
    await h.send("/reconcile")
    assert "don't know this command" in h.last_text()


def star_transactions(*payments):
    return {
        "ok": True,
        "result": {
            "transactions": [
                {
                    "id": charge,
                    "amount": stars,
                    "date": int(datetime.now().timestamp()),
                    "source": {
                        "type": "user",
                        "transaction_type": "invoice_payment",
                        "user": {"id": user, "is_bot": False, "first_name": "U"},
                        "invoice_payload": payload,
                    },
                }
                for charge, user, payload, stars in payments
            ]
            + [
                {
                    "id": "outgoing",
                    "amount": 50,
                    "date": 0,
                    "receiver": {
                        "type": "user",
                        "transaction_type": "invoice_payment",
                        "user": {"id": USER, "is_bot": False, "first_name": "U"},
                    },
                },
            ]
        },
    }


async def test_reconciliation_credits_a_missing_payment_once(h):
    await h.pay(make_payload(Package(100, 50), USER), 50, "known")
    lost = ("lost", 3003, make_payload(Package(500, 225), 3003), 225)
    known = ("known", USER, make_payload(Package(100, 50), USER), 50)
    for _ in range(2):
        h.session.script(GetStarTransactions, **star_transactions(lost, known))
        await reconcile(h.bot, h.services.payments)
    assert await balance(h, 3003) == 500
    assert await balance(h) == 110
    rows = await h.services.db.fetchall("SELECT charge_id, source FROM payments ORDER BY 1")
    assert [tuple(r) for r in rows] == [("known", "update"), ("lost", "reconcile")]


async def test_admin_reconcile_command(h):
    h.session.script(
        GetStarTransactions,
        **star_transactions(("c9", USER, make_payload(Package(100, 50), USER), 50)),
    )
    admin = h.as_user(ADMIN)
    await admin.send("/reconcile")
    assert "1 missing payment(s) credited" in admin.last_text()
    assert await balance(h) == 110


async def test_service_reconcile_skips_known_ids(h):
    payments = h.services.payments
    seen = [StarPayment("x1", USER, make_payload(Package(100, 50), USER), 50)]
    assert len(await payments.reconcile(seen)) == 1
    assert await payments.reconcile(seen) == []


@pytest.mark.parametrize("language, word", [("en", "Terms of service"), ("ru", "Условия")])
async def test_terms_and_paysupport(h, language, word):
    user = h.as_user(4000 + len(language), language)
    await user.send("/terms")
    assert word in user.last_text()
    await user.send("/paysupport")
    assert "/paysupport" not in user.last_text() and len(user.last_text()) > 50


def test_package_settings_are_validated():
    assert parse_packages("500:225, 100:50") == (Package(100, 50), Package(500, 225))
    for bad in ("100", "a:b", "100:0", "0:5", "100:50,100:60"):
        with pytest.raises(ValueError):
            parse_packages(bad)
