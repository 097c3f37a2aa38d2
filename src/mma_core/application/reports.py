"""The reports' commands: one forwarded report, or many at once (an import), each priced
by its fee and claimed by its MMA reference, which counts once across the programme."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date
from uuid import UUID

from mma_core.application.commanding import command
from mma_core.application.commands import Command
from mma_core.application.pricing import Pricing
from mma_core.application.report_rows import ParsedRow, ReportRow, parse_report_row
from mma_core.domain.common import Stamp
from mma_core.domain.errors import (
    DomainError,
    DuplicateReport,
    InvalidInput,
)
from mma_core.domain.municipality import Municipality
from mma_core.domain.offer import Offer
from mma_core.domain.report_claim import ReportClaim, claim_id, claim_ids
from mma_core.domain.values import (
    CostKind,
    MunicipalityCode,
    ReportCategory,
    ReportReference,
)
from mma_core.language.i18n import _ as _t
from mma_core.language.i18n import message_date

BULK_BATCH = 1000  # rows a transaction of a non-atomic record_reports


class ReportCommands(Pricing):
    """Commands that record the reports MMA forwards to a municipality."""

    @command
    def record_report(
        self,
        code: str,
        *,
        received_on: date,
        category: str,
        reference: str,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record a forwarded report (date, category, opaque reference); returns the reference."""
        parsed_category = ReportCategory(category)
        parsed_reference = ReportReference(reference)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(code)
            day = m.check_report(received_on, stamp)
            ids = claim_ids(parsed_reference, reference)
            existing = self.uow.existing(ids)
            self._check_unclaimed(m, parsed_reference, ids, self._taken(ids, existing))
            fee = self._priced(CostKind.REPORT_FEE, m, day)
            m.record_report(day, parsed_category, parsed_reference, fee, stamp)
            self.save(m, self._claim(parsed_reference, m.code, day, stamp, existing))
            return parsed_reference.value

        return self._run(attempt)

    def record_reports(
        self,
        rows: Iterable[ReportRow],
        *,
        by: str,
        origin: str | None = None,
        atomic: bool = True,
        batch_size: int = BULK_BATCH,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        request_id: str | None = None,
    ) -> list[str]:
        """Record many reports; returns their references (canonical), in row order.

        ``request_id`` makes the whole import idempotent, as for every other command: a retry
        with the same rows returns the first answer and writes nothing. It needs one
        transaction, so it cannot go with ``atomic=False`` or ``dry_run``.

        Each row (:class:`ReportRow`: municipality code, received_on, category, reference) is
        checked by every rule of :meth:`record_report` (and every validator), against the
        municipality as the rows before it left it. A row that breaks one raises that rule's
        error, prefixed with the row (its line in the file, if it has one), and nothing is
        written: by default all rows go in one transaction. ``atomic=False`` writes them in
        transactions of ``batch_size`` rows; a failing row then leaves the batches before its
        own written. ``dry_run`` checks every row and writes nothing. ``progress(done, total)``
        is called as rows are checked.
        """
        rows = list(rows)  # read once: a generator is neither re-readable nor fingerprinted
        if request_id is not None and (not atomic or dry_run):
            raise InvalidInput(
                _t(
                    "a bulk import with a request_id is one transaction: it cannot be written in "
                    "batches (atomic=False) or as a dry run"
                )
            )
        return self._record_reports(
            rows,
            by=by,
            origin=origin,
            atomic=atomic,
            batch_size=batch_size,
            dry_run=dry_run,
            progress=progress,
            request_id=request_id,
        )

    @command
    def _record_reports(
        self,
        rows: list[ReportRow],
        *,
        by: str,
        origin: str | None = None,
        atomic: bool = True,
        batch_size: int = BULK_BATCH,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        request_id: str | None = None,  # taken by @command
    ) -> list[str]:
        # The command validators and receipts see as record_reports (its rows as a list).
        parsed = [parse_report_row(row, n) for n, row in enumerate(rows, start=1)]
        stamp = self._stamp(by, origin)
        size = len(parsed) if atomic or dry_run else max(1, int(batch_size))
        references: list[str] = []
        for start in range(0, len(parsed), size or 1):
            batch = parsed[start : start + size]

            def attempt(batch: list[ParsedRow] = batch, done: int = start) -> list[str]:
                return self._record_batch(batch, stamp, dry_run, progress, done, len(parsed))

            references.extend(self._run(attempt))
        return references

    def _record_batch(
        self,
        batch: list[ParsedRow],
        stamp: Stamp,
        dry_run: bool,
        progress: Callable[[int, int], None] | None,
        done: int,
        total: int,
    ) -> list[str]:
        municipalities: dict[str, Municipality] = {}
        claims: list[ReportClaim] = []
        seen: dict[UUID, ParsedRow] = {}
        references = []
        offers: dict[str, Offer] = {}
        ids_of = [claim_ids(row.reference, row.typed) for row in batch]
        every_id = [i for ids in ids_of for i in ids]
        existing = self.uow.existing(every_id)
        claimed = self._taken(every_id, existing)
        for n, (row, ids) in enumerate(zip(batch, ids_of, strict=True), start=1):
            try:
                if self._asks_validators("record_report"):
                    arguments = {
                        "code": row.code,
                        "received_on": row.received_on,
                        "category": row.category.value,
                        "reference": row.reference.value,
                        "by": stamp.by,
                        "origin": stamp.origin,
                    }
                    self.validate(Command("record_report", row.code, arguments))
                m = municipalities.get(row.code)
                if m is None:
                    m = municipalities[row.code] = self.uow.municipality(row.code)
                day = m.check_report(row.received_on, stamp)
                self._check_unclaimed(m, row.reference, ids, claimed, seen)
                seen[ids[0]] = row
                fee = self._priced(CostKind.REPORT_FEE, m, day, offers=offers)
                m.record_report(day, row.category, row.reference, fee, stamp)
                claims.append(self._claim(row.reference, m.code, day, stamp, existing))
                references.append(row.reference.value)
            except DomainError as error:
                named = type(error)(f"{row.where}: {error}", details=error.details)
                raise named.with_traceback(error.__traceback__) from None
            if progress is not None and (n % 100 == 0 or n == len(batch)):
                progress(done + n, total)
        if not dry_run:
            self.save(*municipalities.values(), *claims)
        return references

    def _taken(self, ids: Sequence[UUID], existing: Collection[UUID] | None = None) -> set[UUID]:
        """The claims among ``ids`` that hold their reference: a claim released by a
        retraction or a corrected reference does not. ``existing``: those of ``ids`` that
        exist, when the caller read them already."""
        if existing is None:
            existing = self.uow.existing(list(ids))
        return {i for i in existing if not self.uow.claim(i).released}

    def _claim(
        self,
        reference: ReportReference,
        code: str,
        on: date,
        stamp: Stamp,
        existing: Collection[UUID] | None = None,
    ) -> ReportClaim:
        """The reference claimed for a report of ``code``: a new claim, or a released one
        taken again (its id is the reference's). ``existing``: the claims that exist, when the
        caller read them already (a report reads them once)."""
        at = claim_id(reference)
        if at in existing if existing is not None else self.uow.exists(at):
            claim: ReportClaim = self.uow.claim(at)
            claim.reclaim(MunicipalityCode(code), on, stamp)
            return claim
        return ReportClaim.claim(reference, MunicipalityCode(code), on, stamp)

    def _check_unclaimed(
        self,
        m: Municipality,
        reference: ReportReference,
        ids: Sequence[UUID],
        claimed: Collection[UUID],
        seen: Mapping[UUID, ParsedRow] | None = None,
    ) -> None:
        """A reference counts once: refuse one that an earlier row of the same import
        (``seen``) or a claim (``claimed``: stored, or held back in this block) already has.
        ``ids`` are the claims the reference would take (its canonical form and, for a
        reference recorded before canonical forms, its form as typed)."""
        earlier = next((seen[i] for i in ids if i in seen), None) if seen else None
        if earlier is not None:
            raise DuplicateReport(
                _t(
                    "{label}: MMA reference {reference} is also on {where}; a reference counts once"
                ).format(label=m.label, reference=reference, where=earlier.where),
                details={"reference": reference.value},
            )
        for claim_at in ids:
            if claim_at in claimed:
                claim = self.uow.claim(claim_at)
                raise DuplicateReport(
                    _t(
                        "{label}: MMA reference {reference} was recorded already (for {code}, "
                        "received {day}); a reference counts once"
                    ).format(
                        label=m.label,
                        reference=reference,
                        code=claim.code,
                        day=message_date(claim.received_on),
                    ),
                    details={"reference": reference.value},
                )
