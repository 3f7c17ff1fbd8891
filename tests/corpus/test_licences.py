"""Licence normalization: the verbatim strings sources use, and the real ROCO values."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from apps.corpus.licences import (
    CC0,
    CC_BY,
    CC_BY_NC,
    CC_BY_NC_ND,
    CC_BY_NC_SA,
    CC_BY_ND,
    CC_BY_SA,
    COMMERCIAL_USE,
    LICENCES,
    NONE,
    NOT_RECORDED,
    OPEN,
    OTHER_OPEN,
    PUBLIC_DOMAIN,
    normalize_licence,
)
from tests.roco_data import REAL_ROCO

ROCO_LICENCES = REAL_ROCO / "licences.txt"

# Every value the CC column of ROCO's validation/radiology licences.txt holds
ROCO_VALUES = {
    "CC BY": CC_BY,
    "CC BY-NC": CC_BY_NC,
    "CC BY-NC-ND": CC_BY_NC_ND,
    "CC BY-NC-SA": CC_BY_NC_SA,
    "CC BY-ND": CC_BY_ND,
    "CC BY-SA": CC_BY_SA,
    "CC0": CC0,
    "NO-CC CODE": NONE,
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *ROCO_VALUES.items(),
        ("CC BY 4.0", CC_BY),
        ("cc-by-nc-sa 3.0", CC_BY_NC_SA),
        ("CC-BY-SA-4.0", CC_BY_SA),
        ("CC0 1.0 Universal", CC0),
        ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International", CC_BY_NC_SA),
        ("Attribution 4.0 International (CC BY 4.0)", CC_BY),
        ("https://creativecommons.org/licenses/by/4.0/", CC_BY),
        ("https://creativecommons.org/licenses/by-nc-nd/3.0/igo/", CC_BY_NC_ND),
        ("http://creativecommons.org/publicdomain/zero/1.0/", CC0),
        ("https://creativecommons.org/publicdomain/mark/1.0/", PUBLIC_DOMAIN),
        ("public domain", PUBLIC_DOMAIN),
        ("Public Domain", PUBLIC_DOMAIN),
        ("MIT", OTHER_OPEN),
        ("BSD-3-Clause", OTHER_OPEN),
        ("Apache-2.0", OTHER_OPEN),
    ],
)
def test_verbatim_licence_strings_map_to_their_licence(raw: str, expected: str) -> None:
    assert normalize_licence(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "NO-CC CODE", "all rights reserved", "© 2019 The Authors", "CC", "CC BY-SA-ND"]
)
def test_missing_closed_and_unrecognised_licences_are_treated_as_not_open(raw: str) -> None:
    assert normalize_licence(raw) == NONE


def test_every_normalized_licence_is_a_listed_one_and_only_none_and_not_recorded_are_closed() -> None:
    assert NONE not in OPEN and NOT_RECORDED not in OPEN
    assert COMMERCIAL_USE <= OPEN
    assert OPEN | {NONE, NOT_RECORDED} == set(LICENCES)


def test_real_roco_licence_values_all_map_sensibly() -> None:
    if not ROCO_LICENCES.is_file():
        pytest.skip(f"the shared ROCO validation/radiology metadata is not at {ROCO_LICENCES}")
    with ROCO_LICENCES.open(encoding="utf-8", newline="") as f:
        values = Counter(row["CC"] for row in csv.DictReader(f))
    assert set(values) == set(ROCO_VALUES)
    normalized: Counter[str] = Counter()
    for raw, count in values.items():
        normalized[normalize_licence(raw)] += count
    assert normalized[NONE] == 1016  # the entries that say NO-CC CODE
    assert sum(normalized.values()) == 8180
