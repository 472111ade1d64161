from __future__ import annotations

from omnitill.domain import codes


def test_a_generated_code_checks_out_and_every_single_typo_is_caught():
    code = codes.generate(15, "GC")
    assert code.startswith("GC-")
    assert codes.shape(15).match(code)
    assert not codes.is_mistyped(code, 15)
    body = code.replace("-", "")[2:]
    assert len(body) == 16
    for i, char in enumerate(body):
        for other in codes.ALPHABET:
            if other == char:
                continue
            typo = body[:i] + other + body[i + 1 :]
            grouped = "-".join(typo[j : j + 4] for j in range(0, 16, 4))
            assert codes.is_mistyped(f"GC-{grouped}", 15), (i, other)


def test_codes_compare_without_case_or_spaces_and_other_shapes_are_not_typos():
    code = codes.generate(13)
    assert not codes.is_mistyped(" " + code.lower().replace("-", "- ") + " ", 13)
    assert not codes.is_mistyped("SUMMER10", 13)
    assert not codes.is_mistyped(code, 15)  # another shape: unknown, not mistyped


def test_the_alphabet_has_nothing_to_misread_and_codes_are_random():
    assert len(codes.ALPHABET) == 32
    assert not set("01OI") & set(codes.ALPHABET)
    assert len({codes.generate(13) for _ in range(1000)}) == 1000
