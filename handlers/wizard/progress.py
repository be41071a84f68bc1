"""Cancel on a job's progress message: a full refund while the job has not been sent to Runware,
else a plain word of why not (Runware bills a task it has, whatever happens)."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import StopJob
from handlers.render import fill
from services.billing import Billing
from services.catalog import Catalog
from services.jobs import CancelOutcome, JobService
from services.users import User


async def stop_job(
    callback: CallbackQuery,
    callback_data: StopJob,
    jobs: JobService,
    billing: Billing,
    catalog: Catalog,
    user: User,
) -> None:
    result = await jobs.cancel_by_user(callback_data.job, user.id)
    if result.outcome is CancelOutcome.NOT_FOUND:
        await callback.answer(_("Not found."), show_alert=True)
        return
    if result.outcome is CancelOutcome.AT_RUNWARE:
        await callback.answer(
            _(
                "The video service is already making this video and charges for it whatever "
                "happens, so it can't be cancelled or refunded now. It will arrive here when "
                "it's ready."
            ),
            show_alert=True,
        )
        return
    job = result.job
    assert job is not None
    if result.outcome is CancelOutcome.FINISHED:
        if job.error_class == "user_cancelled":
            text = _("This video was cancelled already; its tokens are back on your balance.")
        elif job.status.value == "delivered":
            text = _("This video is finished already: it is in the chat and in My videos.")
        else:
            text = _("This video has stopped already; its tokens were returned.")
        await callback.answer(text, show_alert=True)
        return
    await callback.answer(_("Cancelled."))
    balance = await billing.balance(user.id)
    line = fill(
        _(
            "✖ Cancelled before it started: {model}, {duration}. {tokens} back on your "
            "balance, now {balance}."
        ),
        model=catalog.name_of(job.model_id),
        duration=screens.seconds(job.duration),
        tokens=screens.tokens(result.tokens),
        balance=screens.tokens(balance),
    )
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_text(line, reply_markup=None)
        except TelegramBadRequest:  # the message is gone or too old to edit: say it anew
            await callback.message.answer(line)
