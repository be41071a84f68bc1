"""Generation jobs: creation (with its charge, in one transaction) and the status machine.

    queued -> (uploading ->) submitted -> succeeded -> delivered
    failed (refunded in the same transaction) from any status before delivered

Every move is a compare-and-set on the stored status, so a step taken twice (two runners, a
restart) moves the job once. Steps that talk to the outside world are taken under a lease
(`lease_owner`, `lease_until`): one runner at a time, and a crashed runner's lease runs out.
`model`: the job and its statuses; `service`: JobService, which alone writes them."""

from services.jobs.model import ACTIVE, PAUSE_FLAG, TRANSITIONS, Clock, Draft, Job, Status
from services.jobs.service import AdminRefund, CancelOutcome, JobService, UserCancel

__all__ = [
    "ACTIVE",
    "PAUSE_FLAG",
    "TRANSITIONS",
    "AdminRefund",
    "CancelOutcome",
    "Clock",
    "Draft",
    "Job",
    "JobService",
    "Status",
    "UserCancel",
]
