from __future__ import annotations

from dataclasses import replace

from omnitill.domain.audit.chain import GENESIS_HASH, AuditRecord, entry_hash, verify_chain


def build(n):
    records, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        rec = AuditRecord(
            "main",
            seq,
            f"id{seq}",
            "2026-01-01T00:00:00.000000+00:00",
            "ann",
            "sale.completed",
            "sale",
            f"s{seq}",
            {"total": seq},
            prev,
        )
        prev = entry_hash(rec)
        records.append((rec, prev))
    return records


def test_an_untouched_chain_verifies():
    chain = build(5)
    assert verify_chain("main", chain, head_seq=5, head_hash=chain[-1][1]) is None


def test_an_altered_entry_is_named():
    chain = build(5)
    rec, digest = chain[2]
    chain[2] = (replace(rec, details={"total": 999}), digest)
    found = verify_chain("main", chain, head_seq=5, head_hash=chain[-1][1])
    assert (found.seq, found.entry_id, found.reason) == (3, "id3", "altered")


def test_a_deleted_entry_is_reported_missing():
    chain = build(5)
    del chain[1]
    found = verify_chain("main", chain, head_seq=5, head_hash=chain[-1][1])
    assert (found.seq, found.reason) == (2, "missing")


def test_a_deleted_last_entry_is_caught_by_the_head():
    chain = build(5)
    head = chain[-1][1]
    found = verify_chain("main", chain[:-1], head_seq=5, head_hash=head)
    assert (found.seq, found.reason) == (5, "missing")


def test_a_rehashed_forgery_breaks_the_next_link():
    chain = build(4)
    rec, _ = chain[1]
    forged = replace(rec, details={"total": 0})
    chain[1] = (forged, entry_hash(forged))
    found = verify_chain("main", chain, head_seq=4, head_hash=chain[-1][1])
    assert (found.seq, found.reason) == (3, "relinked")
