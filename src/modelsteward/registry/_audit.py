"""The audit log's hash chain: appending an entry, and checking the whole chain.

Each entry's hash covers its sequence number, time, actor, action, subject, payload and the hash of
the entry before it. Editing an entry breaks its own hash; deleting one leaves a gap or a successor
chained to a hash that is gone; moving one breaks the hash, which covers the sequence number. An
attacker who rewrites the whole tail consistently is caught only by an anchor kept elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.registry._schema import AuditRow
from modelsteward.registry._values import AuditEntry, AuditProblem, AuditReport, Tamper

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's fields."""
    fields = [seq, at.astimezone(UTC).isoformat(), actor, action, subject, payload, prev_hash]
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    session: Session, *, at: datetime, actor: str, action: str, subject: str, payload: Mapping[str, Any]
) -> None:
    """Add the next entry of the chain; the caller holds the write lock, so the chain never forks."""
    append_many(session, at=at, actor=actor, entries=[(action, subject, payload)])


def append_many(
    session: Session, *, at: datetime, actor: str, entries: Sequence[tuple[str, str, Mapping[str, Any]]]
) -> None:
    """Add ``(action, subject, payload)`` entries to the chain in order, reading its head once."""
    last = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
    seq, prev_hash = (0, GENESIS) if last is None else (last.seq, last.hash)
    for action, subject, payload in entries:
        seq += 1
        body = dict(payload)
        digest = entry_hash(
            seq=seq, at=at, actor=actor, action=action, subject=subject, payload=body, prev_hash=prev_hash
        )
        session.add(
            AuditRow(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                payload=body,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest


def to_entry(row: AuditRow) -> AuditEntry:
    """The row as a detached value."""
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def verify(entries: Sequence[AuditEntry], *, anchor: str | None = None) -> AuditReport:
    """Check the chain of ``entries`` (in sequence order) and name every place it is broken.

    ``anchor`` is a head hash recorded earlier: when given, it must still be in the log.
    """
    by_hash = {e.hash: e for e in entries}
    by_prev = {e.prev_hash: e for e in entries}
    problems: list[AuditProblem] = []
    previous: AuditEntry | None = None
    previous_sound = True
    for entry in entries:
        expected_seq = 1 if previous is None else previous.seq + 1
        if entry.seq > expected_seq:
            missing = (
                f"entry {expected_seq} is"
                if entry.seq == expected_seq + 1
                else f"entries {expected_seq} to {entry.seq - 1} are"
            )
            problems.append(AuditProblem(expected_seq, Tamper.DELETED, f"{missing} missing"))
        sound = _hash_of(entry, entry.seq) == entry.hash
        if not sound:
            problems.append(_misplaced_or_edited(entry, by_hash, by_prev))
        elif entry.seq == expected_seq:
            problem = _broken_link(entry, previous, previous_sound, by_hash)
            if problem is not None:
                problems.append(problem)
        previous, previous_sound = entry, sound
    if anchor is not None and anchor not in by_hash:
        last = entries[-1].seq if entries else 0
        detail = f"the anchor {anchor} is no longer in the log: its tail was cut off or rewritten"
        problems.append(AuditProblem(last + 1, Tamper.TRUNCATED, detail))
    return AuditReport(entries=len(entries), head=previous, problems=tuple(problems))


def _hash_of(entry: AuditEntry, seq: int) -> str:
    return entry_hash(
        seq=seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
    )


def _misplaced_or_edited(
    entry: AuditEntry, by_hash: Mapping[str, AuditEntry], by_prev: Mapping[str, AuditEntry]
) -> AuditProblem:
    """An entry whose hash does not match: written elsewhere in the sequence, or edited."""
    # Where it was written: next to where it stands (two entries swapped), or where its neighbours
    # in the chain stand now. Trying every place would cost the square of the log's length.
    candidates = {entry.seq - 1, entry.seq + 1}
    if (successor := by_prev.get(entry.hash)) is not None:
        candidates.add(successor.seq - 1)
    if entry.prev_hash == GENESIS:
        candidates.add(1)
    elif (predecessor := by_hash.get(entry.prev_hash)) is not None:
        candidates.add(predecessor.seq + 1)
    candidates.discard(entry.seq)
    written = next((seq for seq in sorted(candidates) if _hash_of(entry, seq) == entry.hash), None)
    if written is not None:
        return AuditProblem(
            entry.seq, Tamper.REORDERED, f"the entry written as {written} stands at {entry.seq}"
        )
    return AuditProblem(entry.seq, Tamper.EDITED, "its content no longer matches its hash")


def _broken_link(
    entry: AuditEntry, previous: AuditEntry | None, previous_sound: bool, by_hash: Mapping[str, AuditEntry]
) -> AuditProblem | None:
    """A sound entry whose ``prev_hash`` is not the hash of the entry before it, if so."""
    expected = GENESIS if previous is None else previous.hash
    if entry.prev_hash == expected:
        return None
    if previous is None:
        return AuditProblem(entry.seq, Tamper.DELETED, "the first entry does not start the chain")
    if not previous_sound:
        return None  # the entry before is reported already
    if entry.prev_hash in by_hash:
        moved = by_hash[entry.prev_hash].seq
        return AuditProblem(entry.seq, Tamper.REORDERED, f"it was chained after {moved}, not {previous.seq}")
    # The entry before hashes correctly at its place but is not the one this entry was chained to:
    # it was rewritten, hash and all.
    return AuditProblem(previous.seq, Tamper.EDITED, f"it is not the entry {entry.seq} was chained to")
