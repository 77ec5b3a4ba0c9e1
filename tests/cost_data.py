"""A known day of spending for report tests (figures worked out by hand in the docstring).

Day D = 2025-11-15 (UTC). Clients: Northwind (campaigns Launch, Holiday), Acme (campaign Spring).

| job | campaign | status | finished | estimate | actual | ledger on D | elsewhere |
| 1 | Launch  | completed           | D 10:00    | 3.02 | 3.50 | 3.00          | 0.50 on D-1 |
| 2 | Holiday | partially_completed | D 12:00    | 6.00 | 6.00 | 6.00          |             |
| 3 | Spring  | generating_video    | -          | 3.00 | 1.25 | 1.25          |             |
| 4 | Spring  | completed           | D+1 00:00  | 2.00 | 2.00 | 2.00 at 23:59:59 |          |

Day D: spend 12.25; finished videos 2 (jobs 1, 2); average 9.50 / 2 = 4.75;
estimate 9.02 vs actual 9.50 (ratio 1.05). By campaign: Holiday 6.00 (1 video), Spring 3.25 (0), Launch 3.00
(1 video, ratio 1.16). By client: Northwind 9.00 (2 videos), Acme 3.25 (0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tests.factories import CampaignFactory, ClientFactory, CostEntryFactory, VideoJobFactory
from videogen.models import CostEntry, JobStatus

DAY = date(2025, 11, 15)


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def book(job, amount: str, when: datetime) -> CostEntry:
    entry = CostEntryFactory(job=job, amount=Decimal(amount))
    CostEntry.objects.filter(pk=entry.pk).update(created_at=when)
    return entry


def known_day():
    northwind, acme = ClientFactory(name="Northwind"), ClientFactory(name="Acme")
    launch = CampaignFactory(client=northwind, name="Launch")
    holiday = CampaignFactory(client=northwind, name="Holiday")
    spring = CampaignFactory(client=acme, name="Spring")
    d = DAY
    job1 = VideoJobFactory(campaign=launch, status=JobStatus.COMPLETED, finished_at=at(d, 10),
                           estimated_cost=Decimal("3.02"), actual_cost=Decimal("3.50"))
    book(job1, "0.50", at(date(2025, 11, 14), 22))
    book(job1, "3.00", at(d, 9))
    job2 = VideoJobFactory(campaign=holiday, status=JobStatus.PARTIALLY_COMPLETED, finished_at=at(d, 12),
                           estimated_cost=Decimal("6.00"), actual_cost=Decimal("6.00"))
    book(job2, "6.00", at(d, 11))
    job3 = VideoJobFactory(campaign=spring, status=JobStatus.GENERATING_VIDEO,
                           estimated_cost=Decimal("3.00"), actual_cost=Decimal("1.25"))
    book(job3, "1.25", at(d, 13))
    job4 = VideoJobFactory(campaign=spring, status=JobStatus.COMPLETED, finished_at=at(date(2025, 11, 16)),
                           estimated_cost=Decimal("2.00"), actual_cost=Decimal("2.00"))
    book(job4, "2.00", at(d, 23, 59, 59))
    return type("KnownDay", (), {"northwind": northwind, "acme": acme, "launch": launch, "holiday": holiday,
                                 "spring": spring, "jobs": [job1, job2, job3, job4]})
